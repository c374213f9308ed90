import type { Command } from 'commander';
import { shortTime } from '../../core/domain/certificate-health.ts';
import { CORE_EVENT_KINDS, type CoreEventKind, EVENT_KIND_DESCRIPTIONS } from '../../core/domain/core-event.ts';
import { MAX_LIST_LIMIT } from '../../core/services/activity-service.ts';
import { inventoryLine, itemsText, statusGroups, statusHeadline } from '../../core/services/status-text.ts';
import type { CommandKit } from '../command-kit.ts';
import { parseEventKinds, parseLimit, parseSince } from '../list-filters.ts';
import { table } from '../output.ts';

/** Details as `key=value` pairs on one line; strings bare, anything else as JSON. */
function compact(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

const STATUS_HELP = `
Exit codes (for cron and monitoring checks, like a Nagios plugin):
  0  ok, or only things that need attention / wait by design (with --strict: ok only)
  1  something is failing: an expired certificate, a renewal or first issuance that failed, an invalid
     domain, a device whose last deploy failed, a job whose last run failed
  2  usage error

Failing is listed first, then what needs attention (expiring without a renewal on its way, challenge
content only a person can publish, expired domain authorizations, overdue jobs), then what waits by
design (approvals, deploy windows, with the time each deploys).`;

const EVENTS_HELP = `
Types:
${CORE_EVENT_KINDS.map((k) => `  ${k.padEnd(20)}${EVENT_KIND_DESCRIPTIONS[k]}`).join('\n')}

Times are UTC. Examples:
  bigip-acme events --certificate www.example.com --since 7d
  bigip-acme events --type renewal_failed,deploy_failed --since 2030-01-31
  bigip-acme events --undelivered --json`;

const AUDIT_HELP = `
Times are UTC. Examples:
  bigip-acme audit --object www.example.com
  bigip-acme audit --actor scheduler --action certificate.renew --since 1d
  bigip-acme audit --action approval --json`;

/** `status`, `events`, `audit`: what is wrong now, and what happened. */
export function registerStatusCommands(program: Command, kit: CommandKit): void {
  const { action } = kit;

  program
    .command('status')
    .description(
      'what is failing, what needs attention, what waits (approvals, deploy windows) and until when, and the jobs',
    )
    .option('--strict', 'exit code 1 also when something needs attention (not only when failing)')
    .addHelpText('after', STATUS_HELP)
    .action(
      action(async (rt, out, o: { strict?: boolean }) => {
        const report = await rt.services.status.summary();
        out.result(report, () => {
          const lines = [`bigip-acme status at ${shortTime(report.at)}: ${statusHeadline(report)}`];
          for (const group of statusGroups(report)) {
            lines.push('', group.heading);
            for (const section of group.sections) {
              lines.push(`  ${section.title} (${section.lines.length})`, ...section.lines.map((l) => `    ${l}`));
            }
          }
          const jobs = report.jobs.map((j) => ({
            job: j.job,
            lastRun: j.lastStartedAt ? shortTime(j.lastStartedAt) : 'never',
            result:
              j.timing === 'running' || j.timing === 'stalled' || j.timing === 'overdue'
                ? `${j.lastResult ?? '-'} (${j.timing})`
                : (j.lastResult ?? '-'),
            items: itemsText(j.items),
            nextRun: j.nextRun ? shortTime(j.nextRun) : '-',
          }));
          lines.push(
            '',
            'Jobs',
            ...table(jobs, ['job', 'lastRun', 'result', 'items', 'nextRun'])
              .split('\n')
              .map((l) => `  ${l}`),
          );
          lines.push('', `Inventory: ${inventoryLine(report)}`);
          return lines.join('\n');
        });
        if (report.verdict === 'failing' || (o.strict && report.verdict === 'degraded')) kit.setExitCode(1);
      }),
    );

  program
    .command('events')
    .description(
      'the notification outbox, newest first: what the core raised (renewals, failures, approvals, warnings) and whether it was delivered',
    )
    .option('--type <types>', 'only these types (repeatable or comma-separated)', parseEventKinds)
    .option('--certificate <name>', "only this certificate's events")
    .option('--since <when>', 'only since then: a duration back (30m, 1h, 7d, 2w) or an ISO date/time', (v) =>
      parseSince(v),
    )
    .option('--undelivered', 'only events the notifier has not delivered yet')
    .option('--limit <n>', `at most N (1-${MAX_LIST_LIMIT})`, parseLimit, 50)
    .addHelpText('after', EVENTS_HELP)
    .action(
      action(
        async (
          rt,
          out,
          o: { type?: CoreEventKind[]; certificate?: string; since?: Date; undelivered?: boolean; limit: number },
        ) => {
          const rows = await rt.services.activity.events({
            ...(o.type ? { kinds: o.type } : {}),
            ...(o.certificate !== undefined ? { certificate: o.certificate } : {}),
            ...(o.since ? { since: o.since } : {}),
            ...(o.undelivered ? { undelivered: true } : {}),
            limit: o.limit,
          });
          out.result(rows, () =>
            table(
              rows.map((e) => ({
                id: e.id,
                at: shortTime(e.createdAt),
                type: e.kind,
                subject: e.subject,
                person: e.needsPerson ? 'yes' : '-',
                delivered: e.deliveredAt ? shortTime(e.deliveredAt) : 'pending',
                detail: compact(e.detail),
              })),
              ['id', 'at', 'type', 'subject', 'person', 'delivered', 'detail'],
            ),
          );
        },
      ),
    );

  program
    .command('audit')
    .description('the audit log, newest first: who did what to which object, with what result')
    .option('--actor <actor>', 'only this actor (e.g. cli:alice, slack:U0123, scheduler)')
    .option('--object <name>', 'only entries about the object with this name (certificate, domain, profile, device)')
    .option(
      '--action <action>',
      'only this action or its family (certificate.renew also finds certificate.renew.abandon_order)',
    )
    .option('--since <when>', 'only since then: a duration back (30m, 1h, 7d, 2w) or an ISO date/time', (v) =>
      parseSince(v),
    )
    .option('--limit <n>', `at most N (1-${MAX_LIST_LIMIT})`, parseLimit, 50)
    .addHelpText('after', AUDIT_HELP)
    .action(
      action(async (rt, out, o: { actor?: string; object?: string; action?: string; since?: Date; limit: number }) => {
        const rows = await rt.services.activity.audit({
          ...(o.actor ? { actor: o.actor } : {}),
          ...(o.object ? { object: o.object } : {}),
          ...(o.action ? { action: o.action } : {}),
          ...(o.since ? { since: o.since } : {}),
          limit: o.limit,
        });
        out.result(rows, () =>
          table(
            rows.map((e) => ({
              id: e.id,
              at: shortTime(e.at),
              actor: e.actor,
              action: e.action,
              object: `${e.objectType}:${e.objectName ?? e.objectId ?? '-'}`,
              result: e.result,
              detail: compact(e.detail),
            })),
            ['id', 'at', 'actor', 'action', 'object', 'result', 'detail'],
          ),
        );
      }),
    );
}
