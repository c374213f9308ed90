import { USAGE_LINES } from '../command-parser.ts';
import { type BotMessage, context, escapeMrkdwn, section } from './message.ts';

/** The usage text; `problem` (what was wrong with the input, may echo it) comes first when given. */
export function usageMessage(problem?: string): BotMessage {
  const lines = USAGE_LINES.map((l) => `\`${l.replace(' — ', '` — ')}`).join('\n');
  const blocks = [
    ...(problem ? [section(`:warning: ${escapeMrkdwn(problem)}`)] : []),
    section(`*Usage*\n${lines}`),
    context('The same operations, and more, are in the CLI: `bigip-acme --help`.'),
  ];
  return { text: problem ? `${escapeMrkdwn(problem)}. Try /acme help` : 'Usage: /acme help | status | profile list | domain list | cert list | device list | approvals', blocks };
}

/** A core error, as a person should read it: the message only, never a stack or a cause. */
export function errorMessage(message: string): BotMessage {
  return { text: escapeMrkdwn(message), blocks: [section(`:warning: ${escapeMrkdwn(message)}`)] };
}
