import { isCoreError, messageWithHint } from '../core/errors.ts';
import type { Logger } from '../core/ports/logger.ts';
import { alreadyDecidedText, decidedBefore, type Style } from './refusals.ts';
import { SLACK_WORDS, slackText } from './slack-words.ts';

/**
 * The bot's one error policy. A CoreError is the core refusing or failing for a reason a person can read:
 * its message, with its hint in Slack's words, logged at info. Anything else is a fault on our side: logged
 * with its detail, and the person reads only that something went wrong (never a stack, cause or secret).
 */
export const SOMETHING_WENT_WRONG = "Something went wrong on the certificate service's side; it is in the service log.";

export { SLACK_WORDS };

export interface ErrorReplyContext {
  /** What was being done, for the log line ("slack approval"). */
  what: string;
  /** Appended to the generic answer, e.g. "Nothing was decided." */
  outcome?: string;
  /** Secret-free facts for the log (user, approval id, …). */
  fields?: Record<string, unknown>;
  /** `plain` for a modal's field error (no mentions or dates there); default `mrkdwn`. */
  style?: Style;
}

/** The text to answer a person with after `err`; logs it as the policy above says. */
export function replyError(err: unknown, log: Logger, ctx: ErrorReplyContext): string {
  const fields = ctx.fields ?? {};
  if (isCoreError(err)) {
    log.info({ ...fields, code: err.code }, `${ctx.what} refused by core`);
    const decided = err.code === 'conflict' ? decidedBefore(err.detail) : null;
    if (decided) return alreadyDecidedText(decided, ctx.style);
    return slackText(messageWithHint(err, SLACK_WORDS));
  }
  log.error({ ...fields, err: err instanceof Error ? err.message : String(err) }, `${ctx.what} failed`);
  return ctx.outcome ? `${SOMETHING_WENT_WRONG} ${ctx.outcome}` : SOMETHING_WENT_WRONG;
}
