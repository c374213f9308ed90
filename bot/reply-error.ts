import { type HintWords, isCoreError, messageWithHint } from '../core/errors.ts';
import type { Logger } from '../core/ports/logger.ts';
import { parseAcmeCommand } from './command-parser.ts';

/**
 * The bot's one error policy. A CoreError is the core refusing or failing for a reason a person can read:
 * its message, with its hint in Slack's words, logged at info. Anything else is a fault on our side: logged
 * with its detail, and the person reads only that something went wrong (never a stack, cause or secret).
 */
export const SOMETHING_WENT_WRONG = 'Something went wrong on the bigip-acme side; it is in the service log.';

/** CLI command words that `/acme` spells differently. */
const SLASH_SPELLING: Readonly<Record<string, string>> = { 'approval list': 'approvals' };

/** A hint as Slack says it: a `/acme …` command when the slash command has one, otherwise left out. */
export const SLACK_WORDS: HintWords = {
  command: (words) => {
    const cli = words.join(' ');
    const slash = SLASH_SPELLING[cli] ?? cli;
    const kind = parseAcmeCommand(slash).kind;
    return kind === 'usage' || kind === 'help' ? null : `\`/acme ${slash}\``;
  },
  // Forms and buttons offer no command-line options.
  option: () => null,
};

export interface ErrorReplyContext {
  /** What was being done, for the log line ("slack approval"). */
  what: string;
  /** Appended to the generic answer, e.g. "Nothing was decided." */
  outcome?: string;
  /** Secret-free facts for the log (user, approval id, …). */
  fields?: Record<string, unknown>;
}

/** The text to answer a person with after `err`; logs it as the policy above says. */
export function replyError(err: unknown, log: Logger, ctx: ErrorReplyContext): string {
  const fields = ctx.fields ?? {};
  if (isCoreError(err)) {
    log.info({ ...fields, code: err.code }, `${ctx.what} refused by core`);
    return messageWithHint(err, SLACK_WORDS);
  }
  log.error({ ...fields, err: err instanceof Error ? err.message : String(err) }, `${ctx.what} failed`);
  return ctx.outcome ? `${SOMETHING_WENT_WRONG} ${ctx.outcome}` : SOMETHING_WENT_WRONG;
}
