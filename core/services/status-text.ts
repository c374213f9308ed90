import { mentionCommand } from '../errors.ts';
import { shortTime } from '../domain/certificate-health.ts';
import type { JobItems } from '../domain/job-run.ts';
import type { JobStatus, NotificationStatus, PendingDeploy, StatusLevel, StatusReport } from './status-service.ts';

/**
 * The status report in words, worst first, shared by the CLI and Slack so both say the same thing. Plain
 * text: each edge escapes and styles it its own way.
 */
export interface StatusSection {
  title: string;
  lines: string[];
}

export interface StatusGroup {
  level: StatusLevel;
  heading: string;
  sections: StatusSection[];
}

const HEADINGS: Record<StatusLevel, string> = { failing: 'Failing', degraded: 'Needs attention', waiting: 'Waiting' };

export function itemsText(items: JobItems | null): string {
  return items ? `${items.succeeded} succeeded, ${items.failed} failed, ${items.waiting} waiting` : '-';
}

const when = (at: Date | null) => (at ? shortTime(at) : '-');

/** One job in one line: its last run, what became of its items, and what is next. */
export function jobLine(j: JobStatus): string {
  const last = j.lastStartedAt ? `last run ${shortTime(j.lastStartedAt)}` : 'never run';
  const result =
    j.timing === 'running'
      ? 'running'
      : j.timing === 'stalled'
        ? `started ${when(j.lastStartedAt)} and never finished`
        : (j.lastResult ?? '-');
  const items = j.items ? ` (${itemsText(j.items)})` : '';
  const failed =
    j.failed.length > 0
      ? `; failed: ${j.failed
          .slice(0, 5)
          .map((f) => `${f.name}${f.device ? `@${f.device}` : ''}: ${f.message}`)
          .join('; ')}${j.failed.length > 5 ? `; … and ${j.failed.length - 5} more` : ''}`
      : '';
  const error = j.error ? `: ${j.error.message}` : '';
  const overdue = j.timing === 'overdue' ? '; OVERDUE: no run since then (is a worker running?)' : '';
  const next = j.nextRun ? `; next run ${shortTime(j.nextRun)}` : '';
  return `${j.job}: ${last}, ${result}${items}${error}${failed}${overdue}${next}`;
}

function notificationLines(n: NotificationStatus): string[] {
  const head = `${n.undeliverable} notification${n.undeliverable === 1 ? '' : 's'} Slack refused on every attempt, given up in the last 7 days (see the service log)`;
  return [
    head,
    ...n.latest.map(
      (e) =>
        `${e.kind} of ${e.subject}: ${e.lastError ?? 'refused'} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}, given up ${shortTime(e.givenUpAt)}`,
    ),
  ];
}

function pendingDeployLine(p: PendingDeploy): string {
  const target = `${p.certificate} → ${p.devices.join(', ')}`;
  switch (p.reason) {
    case 'deploy_window':
      return `${target}: at ${when(p.at)}, the deploy time of profile ${p.profileName} (${p.timeZone})`;
    case 'next_deploy_run':
      return `${target}: due; the deploy job takes it at its next run (${when(p.at)})`;
    case 'approval':
      return `${target}: waiting for a deploy approval (${mentionCommand(['approval', 'list'])})`;
    case 'auto_deploy_off':
      return `${target}: auto deploy is off for profile ${p.profileName}; deploy with: ${mentionCommand(['cert', 'deploy', p.certificate])}`;
  }
}

export function statusGroups(r: StatusReport): StatusGroup[] {
  const groups: StatusGroup[] = [];
  for (const level of ['failing', 'degraded'] as const) {
    const sections: StatusSection[] = [
      {
        title: 'certificates',
        lines: r.certificates.filter((c) => c.level === level).map((c) => `${c.name} [${c.profileName}]: ${c.summary}`),
      },
      {
        title: 'domains',
        lines: r.domains
          .filter((d) => d.level === level)
          .map(
            (d) =>
              `${d.name} [${d.profileName}]: ${d.status}${d.detail ? `: ${d.detail}` : ''}${d.lastCheckedAt ? ` (checked ${shortTime(d.lastCheckedAt)})` : ''}`,
          ),
      },
      {
        title: 'deploys',
        lines:
          level === 'failing'
            ? r.deploys.failed.map(
                (d) =>
                  `${d.certificate} on ${d.device}: ${d.result} at step ${d.step}, ${shortTime(d.at)}: ${d.message}`,
              )
            : [],
      },
      { title: 'jobs', lines: r.jobs.filter((j) => j.level === level).map(jobLine) },
      { title: 'notifications', lines: r.notifications.level === level ? notificationLines(r.notifications) : [] },
    ];
    groups.push({ level, heading: HEADINGS[level], sections: sections.filter((s) => s.lines.length > 0) });
  }
  groups.push({
    level: 'waiting',
    heading: HEADINGS.waiting,
    sections: [
      {
        title: 'approvals',
        lines: r.approvals.map(
          (a) =>
            `${a.kind} of ${a.certificate}, requested by ${a.requestedBy} since ${shortTime(a.since)} (approval ${a.id})`,
        ),
      },
      { title: 'deploys', lines: r.deploys.pending.map(pendingDeployLine) },
    ].filter((s) => s.lines.length > 0),
  });
  return groups.filter((g) => g.sections.length > 0);
}

export function statusHeadline(r: StatusReport): string {
  const parts = [
    `${r.counts.failing} failing`,
    `${r.counts.degraded} need${r.counts.degraded === 1 ? 's' : ''} attention`,
    `${r.counts.waiting} waiting`,
  ];
  return `${r.verdict.toUpperCase()}: ${parts.join(', ')}`;
}

export function inventoryLine(r: StatusReport): string {
  const breakdown = (counts: Record<string, number>) => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`);
    return `${total}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  };
  const i = r.inventory;
  return `profiles ${i.profiles}, domains ${breakdown(i.domains)}, certificates ${breakdown(i.certificates)}, devices ${i.devices}`;
}
