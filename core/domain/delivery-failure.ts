/**
 * What a refused notification means for the outbox: the one table of Slack Web API error codes. Pure; the
 * notifier reports what Slack said, the outbox service applies the answer.
 *
 * - `permanent`: this message (or its destination) is refused and sending the same thing now would be
 *   refused again. The event is retried a bounded number of times with a backoff (someone may invite the
 *   bot back or unarchive the channel; a content refusal is retried as plain text) and then given up, so it
 *   never holds up the events behind it.
 * - `retryable`: nothing is wrong with the message (Slack 5xx, a timeout, a network error, an unknown
 *   answer, a token problem that blocks every message alike): the whole run backs off and tries again; the
 *   event is never given up for it.
 * - `rate_limited`: Slack said when to come back (HTTP 429 and Retry-After): nothing is sent before then.
 */

export type DeliveryFailureKind = 'permanent' | 'retryable' | 'rate_limited';

/** Why a `permanent` refusal happened: the message itself, or where it was sent. */
export type PermanentCause = 'message' | 'destination';

export type DeliveryFailure =
  | { kind: 'permanent'; cause: PermanentCause; error: string }
  | { kind: 'retryable'; error: string }
  | { kind: 'rate_limited'; error: string; retryAfterMs: number };

/** Slack refuses the message for what it is: the same blocks can never be accepted. */
export const MESSAGE_ERRORS: ReadonlySet<string> = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'msg_blocks_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_attachments',
  'invalid_arguments',
  'invalid_metadata_format',
  'metadata_too_large',
]);

/** Slack refuses where the message goes: the channel or user, as configured, cannot receive it. */
export const DESTINATION_ERRORS: ReadonlySet<string> = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'cannot_dm_bot',
  'user_not_found',
  'user_disabled',
  'messages_tab_disabled',
]);

/** Where Slack gave no Retry-After on a rate limit: wait this long. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

/** What the notifier observed about one failed post. All optional: a network error has no Slack code. */
export interface DeliveryObservation {
  /** Slack's `error` field (`ok: false`). */
  slackError?: string;
  /** The HTTP status of Slack's answer, when there was one. */
  httpStatus?: number;
  /** Slack's Retry-After, in seconds. */
  retryAfterSeconds?: number;
  /** A client or network error code (`ETIMEDOUT`, `slack_webapi_request_error`, …). */
  code?: string;
}

/** The one classification of a failed notification post. */
export function classifyDeliveryFailure(o: DeliveryObservation): DeliveryFailure {
  if (o.httpStatus === 429 || o.slackError === 'ratelimited' || o.slackError === 'rate_limited') {
    const seconds = o.retryAfterSeconds;
    const retryAfterMs =
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
    return { kind: 'rate_limited', error: 'ratelimited', retryAfterMs };
  }
  const slackError = o.slackError;
  if (slackError !== undefined && MESSAGE_ERRORS.has(slackError))
    return { kind: 'permanent', cause: 'message', error: slackError };
  if (slackError !== undefined && DESTINATION_ERRORS.has(slackError))
    return { kind: 'permanent', cause: 'destination', error: slackError };
  return { kind: 'retryable', error: slackError ?? (o.httpStatus ? `http_${o.httpStatus}` : (o.code ?? 'unknown')) };
}

/** Attempts of one event that Slack refuses permanently before it is given up. */
export const MAX_DELIVERY_ATTEMPTS = 5;

/**
 * Waits after the 1st, 2nd, … permanent refusal before the next attempt: the 2nd comes at once (a message
 * refused for its blocks then goes as plain text), the rest leave time for a person to fix the channel.
 */
export const DELIVERY_RETRY_DELAYS_MS: readonly number[] = [0, 60_000, 5 * 60_000, 30 * 60_000];

export type DeliveryDecision =
  /** Try again not before `at` (which may be now). */
  | { next: 'retry'; at: Date }
  /** Settle the event as undeliverable. */
  | { next: 'give_up' };

/** After the `attempts`th permanent refusal of one event (1 = the first), at `now`. */
export function afterPermanentRefusal(attempts: number, now: Date): DeliveryDecision {
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return { next: 'give_up' };
  const delay = DELIVERY_RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), DELIVERY_RETRY_DELAYS_MS.length) - 1]!;
  return { next: 'retry', at: new Date(now.getTime() + delay) };
}
