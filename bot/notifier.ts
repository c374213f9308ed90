import type { types } from '@slack/bolt';
import type { CoreEvent } from '../core/domain/core-event.ts';
import type { Clock } from '../core/ports/clock.ts';
import type { Logger } from '../core/ports/logger.ts';
import type { Store } from '../core/ports/store.ts';
import { withLease } from '../core/services/with-lease.ts';
import { approvalMessage } from './blocks/approval.ts';
import type { BotMessage } from './blocks/message.ts';
import { digestMessage, eventMessage } from './blocks/notification.ts';

export { collectExpiryWarnings, type ExpiryCandidate, type ExpiryWarning, expiryWarningEvent, expiryWarnings } from '../core/domain/expiry-warning.ts';

/**
 * Posts the core's event outbox to one Slack channel.
 *
 * - Failures and anything that needs a person: one message each, at once.
 * - Successes (`renewal_due`, `renewed`, `deployed`, `approval_decided`): one digest once the oldest
 *   waiting success is `digestIntervalMs` old (or the batch is full of them). Timing follows the events'
 *   `createdAt`, so a restart neither delays nor hastens a digest.
 * - An event is marked delivered only after Slack accepted its message, never before. Delivery is
 *   therefore at-least-once: a crash between a successful post and `markDelivered` repeats that one
 *   message (or that one digest) on the next run; nothing is ever lost and nothing else repeats.
 * - Rate limits: on Slack's rate-limit error the run stops, the rest stays undelivered, and nothing is
 *   posted before `retryAfter` has passed. Posts within a run are spaced `spacingMs` apart (Slack allows
 *   ~1 message per second per channel).
 * - An approval request is posted as the approval itself, with *Approve* / *Deny*, built from the stored
 *   approval (not from the event), so approvers decide from the message; once decided it is plain text.
 * - A message Slack refuses for what it is (`invalid_blocks`, `msg_too_long`, …) would be refused forever
 *   and hold up everything behind it: it is sent once more as plain text, and if that is refused too the
 *   event is marked delivered and logged as dropped.
 * - Other errors: the error code is logged (never the payload), the event stays undelivered, and the run
 *   stops; the next run tries again.
 * - Replicas: each run holds the `slack-notifier` lease, so two replicas never post the same event.
 */

/** The one Web API method the notifier calls; a Bolt `app.client` / `WebClient` satisfies it. */
export interface NotifierClient {
  chat: {
    postMessage(args: { channel: string; text: string; blocks?: types.KnownBlock[]; unfurl_links?: boolean; unfurl_media?: boolean }): Promise<{ ok?: boolean; error?: string }>;
  };
}

export interface NotifierDeps {
  store: Pick<Store, 'events' | 'leases' | 'approvals' | 'certificates'>;
  client: NotifierClient;
  /** Channel ID (or name) to post to: SLACK_NOTIFY_CHANNEL. */
  channel: string;
  clock: Clock;
  log: Logger;
  /** How long successes wait to be collected into one digest; default 1 h. */
  digestIntervalMs?: number;
  /** Gap between two posts of one run; default 1100 ms. */
  spacingMs?: number;
  /** Events read per run (oldest first); default 200. */
  batchSize?: number;
  /** Individual messages per run at most; default 20. The rest follow on the next run. */
  maxPostsPerRun?: number;
  /** Lease holder name (replica id); default `notifier`. */
  holder?: string;
}

export interface Notifier {
  /** One pass over the outbox. Never throws for Slack errors (they are logged); store errors propagate. */
  runOnce(): Promise<{ posted: number; digested: number }>;
  /** Runs now and then every `intervalMs` until `stop()`. Runs never overlap. */
  start(intervalMs: number): void;
  stop(): void;
}

/** Kinds collected into the digest when no person has to act. */
export const DIGEST_KINDS: ReadonlySet<string> = new Set(['renewal_due', 'renewed', 'deployed', 'approval_decided']);

export const DEFAULT_DIGEST_INTERVAL_MS = 3_600_000;
const LEASE_KEY = 'slack-notifier';
const LEASE_TTL_MS = 120_000;

export function isDigestEvent(event: Pick<CoreEvent, 'kind' | 'needsPerson'>): boolean {
  return DIGEST_KINDS.has(event.kind) && !event.needsPerson;
}

/** web-api's `WebAPIRateLimitedError` (`code: 'slack_webapi_rate_limited_error'`, `retryAfter` in seconds). */
export function rateLimitRetryAfter(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; retryAfter?: unknown };
  if (e.code !== 'slack_webapi_rate_limited_error') return null;
  return typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) && e.retryAfter > 0 ? e.retryAfter : 1;
}

/** A loggable description of a Slack error: codes only, never the request or response body. */
function errorCode(err: unknown): { code: string; error?: string } {
  if (typeof err !== 'object' || err === null) return { code: 'unknown' };
  const e = err as { code?: unknown; data?: { error?: unknown } };
  const code = typeof e.code === 'string' ? e.code : 'unknown';
  const slackError = typeof e.data?.error === 'string' ? e.data.error : undefined;
  return slackError ? { code, error: slackError } : { code };
}

/** Slack errors about the message itself: sending the same message again can never succeed. */
export const PERMANENT_MESSAGE_ERRORS: ReadonlySet<string> = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'msg_blocks_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_arguments',
]);

/** The Slack error string of a refused call, however the client reported it. */
function slackErrorOf(err: unknown): string | undefined {
  if (err instanceof NotPosted) return err.slackError;
  const e = err as { data?: { error?: unknown } } | null;
  return typeof e?.data?.error === 'string' ? e.data.error : undefined;
}

class NotPosted extends Error {
  constructor(readonly slackError: string) {
    super(`Slack did not accept the message: ${slackError}`);
  }
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const digestIntervalMs = deps.digestIntervalMs ?? DEFAULT_DIGEST_INTERVAL_MS;
  const spacingMs = deps.spacingMs ?? 1_100;
  const batchSize = deps.batchSize ?? 200;
  const maxPostsPerRun = deps.maxPostsPerRun ?? 20;
  const holder = deps.holder ?? 'notifier';
  const { store, client, channel, clock, log } = deps;

  /** No post before this (epoch ms): set by a rate-limit answer. In memory: after a restart Slack says it again. */
  let pausedUntil = 0;
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let postedThisRun = 0;

  async function send(message: { text: string; blocks?: types.KnownBlock[] }): Promise<void> {
    if (postedThisRun > 0 && spacingMs > 0) await clock.sleep(spacingMs);
    postedThisRun++;
    const res = await client.chat.postMessage({ channel, text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}), unfurl_links: false, unfurl_media: false });
    if (res.ok === false) throw new NotPosted(res.error ?? 'not_ok');
  }

  /**
   * Posts a message; one Slack refuses for its content goes again as plain text, and is given up (resolves
   * `dropped`) if that is refused too. Anything else (rate limit, channel, auth, network) throws.
   */
  async function post(message: BotMessage, what: string): Promise<'posted' | 'dropped'> {
    try {
      await send(message);
      return 'posted';
    } catch (err) {
      const first = slackErrorOf(err);
      if (first === undefined || !PERMANENT_MESSAGE_ERRORS.has(first)) throw err;
      log.warn({ code: 'slack_not_ok', error: first, what }, 'Slack refused a notification as built; sending it as plain text');
      try {
        await send({ text: message.text.slice(0, 3_000) });
        return 'posted';
      } catch (again) {
        const second = slackErrorOf(again);
        if (second === undefined || !PERMANENT_MESSAGE_ERRORS.has(second)) throw again;
        log.error({ code: 'slack_not_ok', error: second, what }, 'Slack refused a notification even as plain text; dropped so the rest can go');
        return 'dropped';
      }
    }
  }

  /** An approval request goes out as the approval with its buttons while it is still pending. */
  async function messageFor(event: CoreEvent): Promise<BotMessage> {
    const id = event.kind === 'approval_requested' ? event.detail['approvalId'] : undefined;
    if (typeof id === 'string') {
      const approval = await store.approvals.findById(id);
      if (approval?.state === 'pending') {
        const cert = await store.certificates.findById(approval.certificateId);
        return approvalMessage({ ...approval, certificateName: cert?.name ?? event.subject });
      }
    }
    return eventMessage(event);
  }

  /** Logs a failed post (codes only) and, for a rate limit, pauses posting until Slack's retryAfter. */
  function failed(err: unknown, what: string, count: number): void {
    const retryAfter = rateLimitRetryAfter(err);
    if (retryAfter !== null) {
      pausedUntil = clock.now().getTime() + retryAfter * 1000;
      log.warn({ code: 'slack_webapi_rate_limited_error', retryAfter, waiting: count }, 'Slack rate limit: notifications paused');
      return;
    }
    const code = err instanceof NotPosted ? { code: 'slack_not_ok', error: err.slackError } : errorCode(err);
    log.warn({ ...code, what, waiting: count }, 'could not post a notification to Slack; will retry next run');
  }

  async function pass(): Promise<{ posted: number; digested: number }> {
    const result = { posted: 0, digested: 0 };
    if (clock.now().getTime() < pausedUntil) return result;
    const events = await store.events.listUndelivered(batchSize);
    if (events.length === 0) return result;
    postedThisRun = 0;

    const individual = events.filter((e) => !isDigestEvent(e));
    const successes = events.filter(isDigestEvent);

    for (const event of individual.slice(0, maxPostsPerRun)) {
      let outcome: 'posted' | 'dropped';
      try {
        outcome = await post(await messageFor(event), event.kind);
      } catch (err) {
        failed(err, event.kind, individual.length - result.posted);
        return result;
      }
      await store.events.markDelivered([event.id], clock.now());
      if (outcome === 'posted') result.posted++;
    }

    const oldest = successes[0];
    if (oldest) {
      const now = clock.now();
      const due = now.getTime() - oldest.createdAt.getTime() >= digestIntervalMs || events.length >= batchSize;
      if (due) {
        try {
          await post(digestMessage(successes, { since: oldest.createdAt, until: now }), 'digest');
        } catch (err) {
          failed(err, 'digest', successes.length);
          return result;
        }
        await store.events.markDelivered(
          successes.map((e) => e.id),
          clock.now(),
        );
        result.digested = successes.length;
      }
    }
    return result;
  }

  async function runOnce(): Promise<{ posted: number; digested: number }> {
    if (running) return { posted: 0, digested: 0 };
    running = true;
    try {
      const leased = await withLease(store.leases, LEASE_KEY, { holder, ttlMs: LEASE_TTL_MS }, log, pass);
      return leased.ran ? leased.value : { posted: 0, digested: 0 };
    } finally {
      running = false;
    }
  }

  return {
    runOnce,
    start(intervalMs: number) {
      if (timer) return;
      const tick = () => {
        runOnce().catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'notifier run failed'));
      };
      timer = setInterval(tick, intervalMs);
      timer.unref?.();
      tick();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
