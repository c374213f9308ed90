import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import { statusGroups, statusHeadline } from '../../core/services/status-text.ts';
import type { StatusReport } from '../../core/services/status-service.ts';
import { type BotMessage, clip, context, escapeMrkdwn, header, section } from './message.ts';

/** Lines shown per section; the rest is counted, and the CLI's `status` shows all. */
const LINES_PER_SECTION = 8;
const MAX_ITEM = 300;
/** Slack's limit on a section's text is 3000 characters. */
const MAX_SECTION = 2900;

const ICONS: Record<StatusReport['verdict'], string> = {
  ok: ':white_check_mark:',
  degraded: ':warning:',
  failing: ':rotating_light:',
};

function breakdown(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

function listSection(title: string, lines: string[]): types.SectionBlock {
  const shown = lines.slice(0, LINES_PER_SECTION).map((l) => `• ${escapeMrkdwn(clip(l, MAX_ITEM))}`);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(slackText(`*${title}*\n${shown.join('\n')}`), MAX_SECTION) },
  };
}

/** `/acme status`: the core's status report (the same as `bigip-acme status`), worst first, then the counts. */
export function statusMessage(r: StatusReport): BotMessage {
  const i = r.inventory;
  const blocks: types.KnownBlock[] = [
    header('Certificate status'),
    section(`${ICONS[r.verdict]} *${escapeMrkdwn(statusHeadline(r))}*`),
  ];
  for (const group of statusGroups(r)) {
    for (const s of group.sections)
      blocks.push(listSection(`${group.heading}: ${s.title} (${s.lines.length})`, s.lines));
  }
  const jobsOff = r.jobs.filter((j) => j.level !== null);
  if (jobsOff.length === 0) {
    const next = r.jobs.filter((j) => j.nextRun).map((j) => `${j.job} ${j.nextRun!.toISOString().slice(11, 16)}Z`);
    if (next.length > 0) blocks.push(context(`Next job runs: ${next.join(', ')}`));
  }
  const lines = [
    `*CA profiles:* ${i.profiles}`,
    `*Domains:* ${total(i.domains)}${breakdown(i.domains)}`,
    `*Certificates:* ${total(i.certificates)}${breakdown(i.certificates)}`,
    `*Devices:* ${i.devices}`,
    `*Pending approvals:* ${r.approvals.length}`,
    `*Undeliverable notifications (7 days):* ${r.notifications.undeliverable}`,
  ];
  blocks.push(
    section(lines.join('\n')),
    context(
      'Details: `/acme cert list`, `/acme approvals`; every line and the notification history: `status` and `events` in the CLI on the server',
    ),
  );
  return {
    text: `Certificates ${statusHeadline(r)}: ${i.profiles} profiles, ${total(i.domains)} domains, ${total(i.certificates)} certificates, ${i.devices} devices, ${r.approvals.length} pending approvals`,
    blocks,
  };
}
