import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextDeployTime } from '../../core/domain/deploy-time.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { ApprovalService } from '../../core/approvals/approval-service.ts';
import { StatusService } from '../../core/services/status-service.ts';
import { statusGroups, statusHeadline } from '../../core/services/status-text.ts';
import { sayCommands } from '../../core/errors.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import {
  makeAuthorization,
  makeBinding,
  makeCertificate,
  makeDeployment,
  makeDevice,
  makeDomain,
  makeProfile,
} from '../fixtures/builders.ts';
import { truncateAll } from '../support/test-db.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const SCHEDULES = { renew: '*/10 * * * *', deploy: '*/5 * * * *', reconfigure: '17 * * * *', cleanup: '43 3 * * *' };

describe('StatusService', () => {
  let database: Database;
  let store: Store;
  // Whole seconds, so the outbox's own timestamps (taken by the database) sort after the seeded facts.
  const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
  const at = (ms: number) => new Date(NOW.getTime() + ms);
  let status: StatusService;
  let approvals: ApprovalService;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    store = createDrizzleStore(database);
    const deps = {
      ...deployCoreDeps(store, createSecretBox(randomBytes(32).toString('base64'))),
      clock: { now: () => NOW, sleep: async () => {} },
    };
    status = new StatusService(deps, { schedules: SCHEDULES, startDelayMaxMs: 0 });
    approvals = new ApprovalService(deps);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await truncateAll(database);
  });

  /** An issued 90-day certificate, as a download leaves it, `days` into its life. */
  async function issued(
    name: string,
    profileId: string,
    over: Partial<ManagedCertificate> = {},
  ): Promise<ManagedCertificate> {
    const cert = makeCertificate(profileId, {
      name,
      commonName: name,
      sans: [],
      state: 'issued',
      serial: `${name.length}abc`,
      notBefore: at(-30 * DAY),
      notAfter: at(60 * DAY),
      renewAt: at(30 * DAY),
      issuedAt: at(-30 * DAY),
      fingerprintSha256: `FP:${name}`,
      ...over,
    });
    await store.certificates.insert(cert);
    return cert;
  }

  it('says ok with nothing to report on a healthy fleet, and lists the jobs with their next runs', async () => {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    await issued('fine.example.com', profile.id);
    const r = await status.summary();
    expect(r.verdict).toBe('ok');
    expect(r.counts).toEqual({ failing: 0, degraded: 0, waiting: 0 });
    expect(statusGroups(r)).toEqual([]);
    expect(statusHeadline(r)).toBe('OK: 0 failing, 0 need attention, 0 waiting');
    expect(r.jobs.map((j) => [j.job, j.timing, j.schedule])).toEqual([
      ['renew', 'never_run', '*/10 * * * *'],
      ['deploy', 'never_run', '*/5 * * * *'],
      ['reconfigure', 'never_run', '17 * * * *'],
      ['cleanup', 'never_run', '43 3 * * *'],
    ]);
    for (const j of r.jobs) expect(j.nextRun!.getTime()).toBeGreaterThan(NOW.getTime());
    expect(r.inventory).toEqual({ profiles: 1, devices: 0, domains: {}, certificates: { issued: 1 } });
  });

  it('reports what fails, what needs attention and what waits until when, worst first', async () => {
    const auto = makeProfile({ name: 'auto', autoDeploy: true, deployTime: '03:30', deployTimeZone: 'Europe/Berlin' });
    const manual = makeProfile({ name: 'manual', autoDeploy: false, autoRenew: false, renewApproval: true });
    await store.profiles.insert(auto);
    await store.profiles.insert(manual);
    const lb1 = makeDevice({ name: 'lb1' });
    const lb2 = makeDevice({ name: 'lb2' });
    await store.devices.insert(lb1);
    await store.devices.insert(lb2);

    // The issue's CA outage: a renewal stuck in `ordering` with 3 failed attempts; the reason only in the outbox.
    const failing = await issued('failing.example.com', auto.id, {
      state: 'ordering',
      renewalStartedAt: at(-3 * 3_600_000),
      failedAttempts: 3,
      nextAttemptAt: at(2 * 3_600_000),
    });
    await store.events.emit({
      kind: 'renewal_failed',
      certificateId: failing.id,
      subject: failing.name,
      dedupeKey: 'f1',
      detail: { code: 'acme_unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9', attempt: 1 },
      needsPerson: false,
    });
    await issued('expired.example.com', auto.id, {
      notBefore: at(-91 * DAY),
      notAfter: at(-DAY),
      renewAt: at(-31 * DAY),
    });
    await issued('expiring.example.com', manual.id, {
      notBefore: at(-85 * DAY),
      notAfter: at(5 * DAY),
      renewAt: at(-25 * DAY),
    });
    // Renewed just now, its device still serves the previous one: waits for the profile's deploy time.
    const fresh = await issued('fresh.example.com', auto.id, { issuedAt: NOW });
    await store.bindings.insert(
      makeBinding(fresh.id, lb1.id, {
        profilePath: '/Common/fresh',
        deployedFingerprint: 'FP:old',
        deployedNotAfter: at(30 * DAY),
      }),
    );
    // Auto deploy off, and a renewal waiting for an approver.
    const handDeployed = await issued('hand.example.com', manual.id);
    await store.bindings.insert(
      makeBinding(handDeployed.id, lb2.id, { profilePath: '/Common/hand', deployedFingerprint: 'FP:old' }),
    );
    await approvals.request('renewal', handDeployed, { serial: handDeployed.serial }, 'scheduler');
    // Its last deploy failed on lb1; on lb2 a failure was followed by a success.
    const broken = await issued('broken.example.com', auto.id);
    await store.bindings.insert(makeBinding(broken.id, lb1.id, { profilePath: '/Common/broken' }));
    await store.bindings.insert(
      makeBinding(broken.id, lb2.id, { profilePath: '/Common/broken', deployedFingerprint: broken.fingerprintSha256 }),
    );
    await store.deployments.insert(
      makeDeployment(broken.id, lb1.id, {
        startedAt: at(-10 * MIN),
        result: 'failed',
        step: 'upload',
        error: { code: 'bigip_tcp', message: 'lb1 refused the connection' },
      }),
    );
    await store.deployments.insert(
      makeDeployment(broken.id, lb2.id, { startedAt: at(-20 * MIN), result: 'failed', step: 'connect' }),
    );
    await store.deployments.insert(
      makeDeployment(broken.id, lb2.id, { startedAt: at(-15 * MIN), result: 'succeeded', step: 'done' }),
    );

    for (const [name, status] of [
      ['bad.example.com', 'invalid'],
      ['old.example.com', 'expired'],
      ['ok.example.com', 'valid'],
    ] as const) {
      const d = makeDomain(auto.id, {
        name,
        status,
        ...(status === 'invalid'
          ? { problem: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'got 404 for the token' } }
          : {}),
      });
      await store.domains.insertWithAuthorization(d, makeAuthorization(d.id, { identifier: name }));
    }

    await store.jobRuns.started('renew', 'w1', at(-5 * MIN));
    await store.jobRuns.finished(
      'renew',
      'failed',
      {
        candidates: 1,
        renewed: [],
        failed: [{ name: failing.name, code: 'acme_unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9' }],
        waiting: [],
      },
      at(-4 * MIN),
    );
    // No deploy run for three hours although it runs every 5 minutes: is a worker running?
    await store.jobRuns.started('deploy', 'w1', at(-3 * 3_600_000));
    await store.jobRuns.finished(
      'deploy',
      'ok',
      { deployed: [], failed: [], waiting: [], notYet: [] },
      at(-3 * 3_600_000),
    );

    const r = await status.summary();
    expect(r.verdict).toBe('failing');
    // failing: expired + renewal failing + invalid domain + lb1 deploy + renew job; degraded: expiring + expired authorization + overdue deploy job.
    expect(r.counts).toEqual({ failing: 5, degraded: 3, waiting: 3 });

    expect(r.certificates.map((c) => [c.name, c.concern, c.level])).toEqual([
      ['expired.example.com', 'expired', 'failing'],
      ['failing.example.com', 'renewal_failing', 'failing'],
      ['expiring.example.com', 'expiring', 'degraded'],
    ]);
    expect(r.certificates[1]).toMatchObject({
      state: 'ordering',
      failedAttempts: 3,
      nextAttemptAt: at(2 * 3_600_000),
      lastError: { code: 'acme_unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9', attempt: 1 },
    });
    expect(r.domains.map((d) => [d.name, d.status, d.level, d.detail])).toEqual([
      ['bad.example.com', 'invalid', 'failing', 'got 404 for the token'],
      ['old.example.com', 'expired', 'degraded', null],
    ]);
    expect(r.deploys.failed).toEqual([
      {
        certificate: 'broken.example.com',
        device: 'lb1',
        serial: '0abc',
        result: 'failed',
        step: 'upload',
        at: at(-10 * MIN),
        message: 'lb1 refused the connection',
        level: 'failing',
      },
    ]);
    expect(r.deploys.pending).toEqual([
      {
        certificate: 'fresh.example.com',
        profileName: 'auto',
        devices: ['lb1'],
        reason: 'deploy_window',
        at: nextDeployTime(NOW, '03:30', 'Europe/Berlin'),
        timeZone: 'Europe/Berlin',
        level: 'waiting',
      },
      {
        certificate: 'hand.example.com',
        profileName: 'manual',
        devices: ['lb2'],
        reason: 'auto_deploy_off',
        at: null,
        timeZone: 'Europe/Berlin',
        level: 'waiting',
      },
    ]);
    expect(r.approvals).toEqual([
      {
        id: expect.any(String),
        kind: 'renewal',
        certificate: 'hand.example.com',
        requestedBy: 'scheduler',
        since: NOW,
        level: 'waiting',
      },
    ]);

    const renew = r.jobs.find((j) => j.job === 'renew')!;
    expect(renew).toMatchObject({
      lastResult: 'failed',
      items: { succeeded: 0, failed: 1, waiting: 0 },
      failed: [{ name: 'failing.example.com', message: 'connect ECONNREFUSED 127.0.0.1:9' }],
      timing: 'on_schedule',
      level: 'failing',
    });
    expect(r.jobs.find((j) => j.job === 'deploy')).toMatchObject({
      lastResult: 'ok',
      timing: 'overdue',
      level: 'degraded',
    });

    // The same in words, as the CLI and Slack show it.
    const text = sayCommands(
      statusGroups(r)
        .map((g) => `${g.heading}\n${g.sections.map((s) => `${s.title}: ${s.lines.join(' | ')}`).join('\n')}`)
        .join('\n'),
      { command: (w) => `bigip-acme ${w.join(' ')}`, option: (o) => `--${o}` },
    );
    expect(text).toContain(
      'failing.example.com [auto]: renewal failing (3 failed attempts): connect ECONNREFUSED 127.0.0.1:9 (attempt 1,',
    );
    expect(text).toContain('broken.example.com on lb1: failed at step upload');
    expect(text).toContain(
      `fresh.example.com → lb1: at ${nextDeployTime(NOW, '03:30', 'Europe/Berlin').toISOString().replace('.000', '')}, the deploy time of profile auto (Europe/Berlin)`,
    );
    expect(text).toContain(
      'hand.example.com → lb2: auto deploy is off for profile manual; deploy with: bigip-acme cert deploy hand.example.com',
    );
    expect(text).toContain('deploy: last run');
    expect(text).toContain('OVERDUE');
    expect(statusGroups(r).map((g) => g.heading)).toEqual(['Failing', 'Needs attention', 'Waiting']);
  });

  it('a deploy that is due goes at the deploy job’s next run, and one behind a pending approval says so', async () => {
    const profile = makeProfile({ autoDeploy: true, deployApproval: true, deployTime: '00:00', deployTimeZone: 'UTC' });
    await store.profiles.insert(profile);
    const lb = makeDevice({ name: 'lb' });
    await store.devices.insert(lb);
    const due = await issued('due.example.com', profile.id, { issuedAt: at(-2 * DAY) });
    await store.bindings.insert(makeBinding(due.id, lb.id, { profilePath: '/Common/due' }));
    expect((await status.summary()).deploys.pending[0]).toMatchObject({
      reason: 'next_deploy_run',
      at: (await status.jobs())[1]!.nextRun,
    });
    await approvals.request('deploy', due, {}, 'scheduler');
    const r = await status.summary();
    expect(r.deploys.pending[0]).toMatchObject({ reason: 'approval', at: null });
    expect(r.verdict).toBe('ok');
  });
});
