import { type HintWords, sayCommands } from '../core/errors.ts';
import { parseAcmeCommand } from './command-parser.ts';

/**
 * The one place the bot turns a command named by the core (an error's hint, a command mentioned in a
 * status line or progress) into Slack's words (decision 0037). In order:
 *
 * 1. An operation a person does in Slack with a button: named by the button ("*Approve* on the request").
 * 2. An operation `/acme` has: the slash command, e.g. `` `/acme cert list` ``.
 * 3. Anything else exists only on the command line on the server (resume, removal, backup, secrets, …):
 *    said plainly as that, with the operation's words but never a shell line (no program name), so nobody
 *    pastes it into Slack.
 *
 * No text the bot sends contains `bigip-acme …` (tests/bot/slack-words.test.ts checks every text the bot
 * suites see Slack receive).
 */

/** CLI command words that `/acme` spells differently. */
const SLASH_SPELLING: Readonly<Record<string, string>> = { 'approval list': 'approvals' };

/** Operations done in Slack with a button rather than a command; keyed by the CLI's first two words. */
const BUTTONS: Readonly<Record<string, string>> = {
  'approval approve': '*Approve* on the request (`/acme approvals` lists what waits)',
  'approval deny': '*Deny* on the request (`/acme approvals` lists what waits)',
};

/** A command as Slack says it: a button, a `/acme` command, or an operation only the server's CLI has. */
export function slackCommand(words: readonly string[]): string {
  const button = BUTTONS[words.slice(0, 2).join(' ')];
  if (button) return button;
  const cli = words.join(' ');
  const slash = SLASH_SPELLING[cli] ?? cli;
  const kind = parseAcmeCommand(slash).kind;
  if (kind !== 'usage' && kind !== 'help') return `\`/acme ${slash}\``;
  return `\`${cli}\` (an operator runs it on the server; Slack has no command for it)`;
}

/** Hints in Slack's words. Options (`--force`, `--skip-test`) exist only on the command line: left out. */
export const SLACK_WORDS: HintWords = { command: slackCommand, option: () => null };

/** A core text (status line, progress, stored detail) with every command it mentions in Slack's words. */
export function slackText(text: string): string {
  return sayCommands(text, SLACK_WORDS);
}
