import { USAGE_LINES } from '../command-parser.ts';
import { type BotMessage, context, escapeMrkdwn, section } from './message.ts';

/** The usage text; `problem` (what was wrong with the input, may echo it) comes first when given. */
export function usageMessage(problem?: string): BotMessage {
  const lines = USAGE_LINES.map((l) => `\`${l.replace(' — ', '` — ')}`);
  // A section's text is clipped; the lines go in as many sections as they need, whole lines each.
  const chunks: string[] = ['*Usage*'];
  for (const line of lines) {
    const last = chunks[chunks.length - 1]!;
    if (last.length + line.length + 1 > 480) chunks.push(line);
    else chunks[chunks.length - 1] = `${last}\n${line}`;
  }
  const blocks = [
    ...(problem ? [section(`:warning: ${escapeMrkdwn(problem)}`)] : []),
    ...chunks.map(section),
    context(
      'The same operations, and more (bindings, removal, backup, key rotation), are in the command-line tool on the server.',
    ),
  ];
  return {
    text: problem
      ? `${escapeMrkdwn(problem)}. Try /acme help`
      : 'Usage: /acme help | status | profile … | domain … | cert … | device … | approvals',
    blocks,
  };
}

/** A refusal the bot wrote in Slack mrkdwn itself (mentions, dates: bot/refusals.ts); not escaped. */
export function refusalMessage(mrkdwn: string): BotMessage {
  return { text: mrkdwn, blocks: [section(`:no_entry: ${mrkdwn}`)] };
}

/** A core error, as a person should read it: the message only, never a stack or a cause. */
export function errorMessage(message: string): BotMessage {
  return { text: escapeMrkdwn(message), blocks: [section(`:warning: ${escapeMrkdwn(message)}`)] };
}
