import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerLifecycleMetrics } from '../../responder/lifecycle-metrics.ts';
import { createResponderMetrics } from '../../responder/metrics.ts';
import { describeWithPromtool } from '../support/promtool.ts';

const ALERTS = 'docs/monitoring/alerts.yml';
const ALERT_TESTS = 'docs/monitoring/alerts.test.yml';
const DASHBOARD = 'docs/monitoring/grafana-dashboard.json';

/** Every metric the service's /metrics exposes, registered as responder/start.ts registers them. */
function exposedNames(): Set<string> {
  const { registry } = createResponderMetrics(
    () => 0,
    () => true,
  );
  registerLifecycleMetrics(registry as Registry, async () => ({ value: null, stale: false }));
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

/** Our metric names in a PromQL expression (or any text): everything named bigip_acme_…. */
function ourNames(text: string): string[] {
  return [...text.matchAll(/\bbigip_acme_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

const datasource = z.object({ type: z.literal('prometheus'), uid: z.string().min(1) });

/** The fields Grafana needs to import a dashboard and draw each panel, and that this one relies on. */
const dashboardSchema = z.object({
  title: z.string().min(1),
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  schemaVersion: z.number().int().min(30),
  editable: z.boolean(),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), query: z.string().optional() })),
  }),
  panels: z
    .array(
      z.object({
        id: z.number().int().positive(),
        type: z.enum(['stat', 'table', 'timeseries', 'gauge', 'bargauge', 'text']),
        title: z.string().min(1),
        description: z.string().min(1),
        datasource,
        gridPos: z
          .object({
            h: z.number().int().positive(),
            w: z.number().int().min(1).max(24),
            x: z.number().int().min(0).max(23),
            y: z.number().int().min(0),
          })
          .refine((g) => g.x + g.w <= 24, 'a panel must fit in the 24-column grid'),
        targets: z
          .array(
            z.object({
              refId: z.string().min(1),
              expr: z.string().min(1),
              datasource,
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

describe('docs/monitoring: the Grafana dashboard and the Prometheus alerts use only metrics the service exposes', () => {
  const exposed = exposedNames();

  it('the registry the service exposes holds every lifecycle metric the issue names', () => {
    for (const name of [
      'bigip_acme_certificate_expiration_timestamp_seconds',
      'bigip_acme_certificate_renewal_timestamp_seconds',
      'bigip_acme_certificate_ready_status',
      'bigip_acme_renewals_total',
      'bigip_acme_deploys_total',
      'bigip_acme_device_last_deploy_success_timestamp_seconds',
      'bigip_acme_job_last_success_timestamp_seconds',
      'bigip_acme_metrics_stale',
    ])
      expect(exposed).toContain(name);
  });

  it('the dashboard parses and has the Grafana fields, unique panel ids and refIds, and no overlapping panels', () => {
    const dashboard = dashboardSchema.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      const refIds = p.targets.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
    // The datasource variable every panel names exists.
    expect(dashboard.templating.list.map((v) => `\${${v.name}}`)).toContain(dashboard.panels[0]!.datasource.uid);
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels)
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel`).toBe(false);
          cells.add(`${x},${y}`);
        }
  });

  it('every metric a dashboard query names exists, and every query names one', () => {
    const dashboard = dashboardSchema.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) {
        const names = ourNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) expect(exposed, `${panel.title}: ${expr}`).toContain(name);
      }
  });

  it('every metric the alert rules (and their tests) name exists; the four alerts the issue asks for are there', () => {
    const alerts = readFileSync(ALERTS, 'utf8');
    for (const file of [alerts, readFileSync(ALERT_TESTS, 'utf8')])
      for (const name of ourNames(file)) expect(exposed, name).toContain(name);
    const names = [...alerts.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
    expect(names).toEqual(
      expect.arrayContaining([
        'BigipAcmeCertificateExpiringSoon',
        'BigipAcmeRenewalFailing',
        'BigipAcmeDeployFailing',
        'BigipAcmeJobNotRunning',
      ]),
    );
  });

  it('the README documents every bigip_acme metric the service exposes', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const name of exposed) if (name.startsWith('bigip_acme_')) expect(readme, name).toContain(`\`${name}\``);
  });
});

describeWithPromtool('docs/monitoring/alerts.yml with promtool', () => {
  it('promtool check rules accepts the rules', () => {
    const out = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('every dashboard query is valid PromQL (checked as a recording rule, Grafana variables filled in)', () => {
    const dashboard = dashboardSchema.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    // YAML reads JSON strings as they are, so each expression needs no escaping of its own.
    const rules = dashboard.panels.flatMap((p) =>
      p.targets.map(
        (t) =>
          `      - record: dashboard_panel_${p.id}_${t.refId}\n        expr: ${JSON.stringify(t.expr.replaceAll('$__rate_interval', '5m'))}`,
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'bigip-acme-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool test rules: each alert fires when it should and only then', () => {
    const out = execFileSync('promtool', ['test', 'rules', ALERT_TESTS], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });
});
