import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import type { TestOutcome } from '../../core/services/domain-service.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e, header, MAX_BLOCKS } from './message.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * `/acme domain test` over several domains: one message, replaced as results come in, then with the
 * summary. Result lines are packed into as few sections as fit, so a long run stays within 50 blocks.
 */
export interface BulkTestRow {
  name: string;
  profile: string;
  /** `error`: the core refused or failed before a test outcome (e.g. no challenge yet). */
  outcome: TestOutcome | 'error';
  detail: string;
}

const ICON: Record<BulkTestRow['outcome'], string> = {
  valid: ':white_check_mark:',
  already_valid: ':white_check_mark:',
  invalid: ':x:',
  unreachable: ':electric_plug:',
  expired: ':hourglass:',
  error: ':warning:',
};
const LABEL: Record<BulkTestRow['outcome'], string> = {
  valid: 'valid',
  already_valid: 'already valid',
  invalid: 'invalid',
  unreachable: 'unreachable',
  expired: 'expired',
  error: 'error',
};
const ORDER: BulkTestRow['outcome'][] = ['valid', 'already_valid', 'invalid', 'unreachable', 'expired', 'error'];
const MAX_SECTION = 2900;

function row(r: BulkTestRow): string {
  return `${ICON[r.outcome]} *${e(r.name)}* (\`${e(r.profile)}\`) ${LABEL[r.outcome]}: ${e(clip(r.detail, 300))}`;
}

/** "2 valid, 1 unreachable" in a fixed order. */
export function outcomeCounts(rows: BulkTestRow[]): string {
  const counts = ORDER.map((o) => [o, rows.filter((r) => r.outcome === o).length] as const).filter(([, n]) => n > 0);
  return counts.length === 0 ? 'no results yet' : counts.map(([o, n]) => `${n} ${LABEL[o]}`).join(', ');
}

/**
 * @param scope what was asked, e.g. `profile prod` or `3 domains`
 * @param total how many domains the run covers
 */
export function domainTestMessage(opts: {
  scope: string;
  total: number;
  rows: BulkTestRow[];
  done: boolean;
}): BotMessage {
  const { rows, total } = opts;
  const title = opts.done ? 'Test Connection: done' : 'Test Connection: testing…';
  const progress = opts.done
    ? `${rows.length} of ${total} tested: ${outcomeCounts(rows)}`
    : `${rows.length} of ${total} tested so far${rows.length > 0 ? `: ${outcomeCounts(rows)}` : ''}`;
  const blocks: types.KnownBlock[] = [header(title), context(`${e(opts.scope)}  ·  ${progress}`)];
  const sections: string[] = [];
  for (const line of rows.map(row)) {
    const last = sections[sections.length - 1];
    if (last !== undefined && last.length + line.length + 1 <= MAX_SECTION)
      sections[sections.length - 1] = `${last}\n${line}`;
    else sections.push(line);
  }
  const room = MAX_BLOCKS - blocks.length - 1;
  for (const text of sections.slice(0, room))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackText(text) } });
  if (sections.length > room)
    blocks.push(context(`… more results than fit here; see ${slackCommand(['domain', 'list'])}`));
  else if (!opts.done)
    blocks.push(
      context(
        ':hourglass_flowing_sand: The CA validates each domain in turn; this message updates as results come in.',
      ),
    );
  return { text: clip(e(`Test Connection (${opts.scope}): ${progress}`), 300), blocks };
}
