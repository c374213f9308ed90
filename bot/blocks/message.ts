import type { types } from '@slack/bolt';
import { clip } from '../../core/net/clip.ts';
import { slackText } from '../slack-words.ts';

export { clip };

/** What every builder returns: Block Kit blocks plus the plain `text` Slack shows in notifications. */
export interface BotMessage {
  text: string;
  blocks: types.KnownBlock[];
}

/** Slack's cap on blocks in one message. */
export const MAX_BLOCKS = 50;
/** Slack's cap on a section's text; lines are clipped well below it. */
const MAX_LINE = 500;

/** Escapes the three characters Slack's mrkdwn treats as control characters. Use on every user-controlled string. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Every block helper says the commands a core text mentions in Slack's words (bot/slack-words.ts).

export function section(mrkdwn: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(slackText(mrkdwn), MAX_LINE) } };
}

export function context(mrkdwn: string): types.ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(slackText(mrkdwn), MAX_LINE) }] };
}

export function header(plain: string): types.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(slackText(plain), 150), emoji: true } };
}

/**
 * A titled list, one section per row, within Slack's block limit: past it, the last block says how many
 * rows were left out.
 */
export function listMessage(opts: { title: string; subtitle?: string; rows: string[]; empty: string }): BotMessage {
  const head: types.KnownBlock[] = [header(opts.title)];
  if (opts.subtitle) head.push(context(opts.subtitle));
  if (opts.rows.length === 0) {
    return { text: `${opts.title}: ${opts.empty}`, blocks: [...head, section(opts.empty)] };
  }
  const room = MAX_BLOCKS - head.length;
  const fits = opts.rows.length <= room;
  const shown = fits ? opts.rows : opts.rows.slice(0, room - 1);
  const blocks: types.KnownBlock[] = [...head, ...shown.map(section)];
  if (!fits) blocks.push(context(`… and ${opts.rows.length - shown.length} more`));
  return { text: `${opts.title}: ${opts.rows.length}`, blocks };
}
