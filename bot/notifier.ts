import type { types } from '@slack/bolt';
import type { CoreEvent } from '../core/domain/core-event.ts';
import type { ApproverGroups } from '../core/ports/approver-groups.ts';
import type { Clock } from '../core/ports/clock.ts';
import type { Logger } from '../core/ports/logger.ts';
import { classifyDeliveryFailure, type DeliveryObservation, MESSAGE_ERRORS } from '../core/domain/delivery-failure.ts';
import type { OutboxEvent } from '../core/ports/repositories/events.ts';
import type { OutboxService, PendingApproval } from '../core/services/outbox-service.ts';
import { requestOutcomeMessage, slackRequester } from './blocks/request-outcome.ts';
import { approvalMessage } from './blocks/approval.ts';
import type { BotMessage } from './blocks/message.ts';
import { digestMessage, eventMessage } from './blocks/notification.ts';

/**
 * Posts the core's event outbox to one Slack channel.
 *
 * - Failures and anything that needs a person: one message each, at once.
 * - Successes (`renewal_due`, `renewed`, `deployed`, `approval_decided`): one digest once the oldest
 *   waiting success is `digestIntervalMs` old (or the batch is full of them). Timing follows the events'
 *   `createdAt`, so a restart neither delays nor hastens a digest.
 * - Reading and settling go through the core's outbox service (core/services/outbox-service.ts). An event
 *   is settled only after Slack accepted its message, never before. Delivery is therefore at-least-once: a
 *   crash between a successful post and `markSent` repeats that one message (or that one digest) on the
 *   next run; nothing is ever lost and nothing else repeats.
 * - When: `start` runs on every wake (an event written to the outbox, see `wake`), a burst of wakes within
 *   `debounceMs` making one run, and every poll interval as a fallback for a wake that was lost. Never two
 *   runs at once in one process: a wake during a run brings one more run after it.
 * - Rate limits: on Slack's rate-limit error the run stops, the rest stays undelivered, and nothing is
 *   posted before `retryAfter` has passed; the next run is set for just after it, not for the next poll.
 *   Posts within a run are spaced `spacingMs` apart (Slack allows ~1 message per second per channel).
 * - An approval request is posted as the approval itself, with *Approve* / *Deny*, built from the stored
 *   approval (not from the event), so approvers decide from the message; once decided it is plain text.
 * - Every failed post is classified by one table (core/domain/delivery-failure.ts) and recorded on the
 *   event (attempts, Slack's error code; never the payload). A permanent refusal (`invalid_blocks`,
 *   `msg_too_long`, `channel_not_found`, `not_in_channel`, `is_archived`, …) is retried with a backoff and
 *   given up after a bounded number of attempts; meanwhile the run goes on with the next event, so one bad
 *   message never stalls the outbox. A message refused for its content goes again as plain text.
 * - Other errors (Slack 5xx, timeouts, network): the event stays first in line and the run stops; the next
 *   run comes after a short backoff (1, 2, 5, 10, 30 s, never later than the next poll).
 * - A `request_outcome` (a certificate request issued, failed or denied) goes to the requester's DM, not
 *   the channel, through the same outbox: settled only once the DM was accepted, so a restart loses none.
 *   A requester who is no Slack user (the CLI) has nobody to tell here: the event is settled unsent.
 * - Every message showing a pending approval is recorded (channel and ts) so that a decision, wherever it is
 *   clicked, updates every copy. With `approverDm`, each approver also gets the approval in a DM once the
 *   channel took it: best effort (a DM that fails is logged, not retried, and never repeats the channel post).
 * - Replicas: each run claims the outbox (a lease), so two replicas never post the same event.
 */

/** The Web API methods the notifier calls; a Bolt `app.client` / `WebClient` satisfies it. */
export interface NotifierClient {
  chat: {
    postMessage(args: {
      channel: string;
      text: string;
      blocks?: types.KnownBlock[];
      unfurl_links?: boolean;
      unfurl_media?: boolean;
    }): Promise<{ ok?: boolean; error?: string; channel?: string; ts?: string }>;
  };
  /** The DM channel with a person (scope `im:write`), for the requester's `request_outcome` messages. */
  conversations?: {
    open(args: { users: string }): Promise<{ ok?: boolean; error?: string; channel?: { id?: string } }>;
  };
}

/**
 * Subscribes `onWake` to "an event was written to the outbox" (LISTEN on PostgreSQL or PGlite); also called
 * when notifications may have been lost (a reconnect). Resolves once listening, to the unsubscribe function.
 */
export type WakeSource = (onWake: () => void) => Promise<() => Promise<void>>;

export interface NotifierDeps {
  /** Where events are read and settled: `createOutboxService` over the store. */
  outbox: OutboxService;
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
  /** Who claims the outbox (replica id); default `notifier`. */
  holder?: string;
  /** Event wake-ups for `start`; without it only the poll runs. */
  wake?: WakeSource;
  /** How long a wake waits for further events before the run, so a burst is one run; default 150 ms. */
  debounceMs?: number;
  /**
   * SLACK_APPROVER_DM: the Slack user ids that also get each approval request in a DM (the listed approvers,
   * user groups expanded). Unset: the channel only.
   */
  approverDm?: () => Promise<readonly string[]>;
}

export interface Notifier {
  /** One pass over the outbox. Never throws for Slack errors (they are logged); store errors propagate. */
  runOnce(): Promise<{ posted: number; digested: number }>;
  /**
   * Runs now, on every wake, and at least every `intervalMs` until `stop()`; resolves once subscribed to
   * wakes. Runs never overlap.
   */
  start(intervalMs: number): Promise<void>;
  /** Stops scheduling, unsubscribes, and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/** Kinds collected into the digest when no person has to act. */
export const DIGEST_KINDS: ReadonlySet<string> = new Set(['renewal_due', 'renewed', 'deployed', 'approval_decided']);

export const DEFAULT_DIGEST_INTERVAL_MS = 3_600_000;
export const DEFAULT_DEBOUNCE_MS = 150;
/** Waited past Slack's Retry-After, so the retry does not arrive a hair early. */
export const RATE_LIMIT_MARGIN_MS = 250;
/** Backoff after a failed run (a Slack or database error), by consecutive failures; the poll interval caps it. */
export const RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 30_000];

/** How long to wait before the next run after `failures` consecutive failed runs (1 = the first failure). */
export function retryDelayMs(failures: number, pollIntervalMs: number): number {
  const step = RETRY_DELAYS_MS[Math.min(Math.max(failures, 1), RETRY_DELAYS_MS.length) - 1]!;
  return Math.min(step, pollIntervalMs);
}

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

/** What a failed post tells the classification: Slack's error code, HTTP status, Retry-After, client code. */
export function observeFailure(err: unknown): DeliveryObservation {
  if (err instanceof NotPosted) return { slackError: err.slackError };
  if (typeof err !== 'object' || err === null) return {};
  const e = err as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown };
  const retryAfter = rateLimitRetryAfter(err);
  if (retryAfter !== null) return { httpStatus: 429, retryAfterSeconds: retryAfter };
  return {
    ...(typeof e.data?.error === 'string' ? { slackError: e.data.error } : {}),
    ...(typeof e.statusCode === 'number' ? { httpStatus: e.statusCode } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

class NotPosted extends Error {
  constructor(readonly slackError: string) {
    super(`Slack did not accept the message: ${slackError}`);
  }
}

/** Why a run ended, which decides when the next one comes. */
/** What one delivery came to (see `deliver`). */
type Delivered = 'posted' | 'later' | 'given_up' | { stop: unknown };

type RunEnd =
  | { end: 'done' }
  /** Posted as many as one run may; the rest are waiting. */
  | { end: 'more' }
  /** Slack said to wait (now or earlier): not before `until` (epoch ms by the notifier's clock). */
  | { end: 'paused'; until: number }
  | { end: 'failed' };

export function createNotifier(deps: NotifierDeps): Notifier {
  const digestIntervalMs = deps.digestIntervalMs ?? DEFAULT_DIGEST_INTERVAL_MS;
  const spacingMs = deps.spacingMs ?? 1_100;
  const batchSize = deps.batchSize ?? 200;
  const maxPostsPerRun = deps.maxPostsPerRun ?? 20;
  const holder = deps.holder ?? 'notifier';
  const debounceMs = deps.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const { outbox, client, channel, clock, log } = deps;

  /** No post before this (epoch ms): set by a rate-limit answer. In memory: after a restart Slack says it again. */
  let pausedUntil = 0;
  let postedThisRun = 0;

  /** Where the last accepted post went (channel id and ts), for recording an approval's copies. */
  let lastPosted: { channel: string; ts: string } | null = null;

  async function send(message: { text: string; blocks?: types.KnownBlock[] }, to = channel): Promise<void> {
    if (postedThisRun > 0 && spacingMs > 0) await clock.sleep(spacingMs);
    postedThisRun++;
    const res = await client.chat.postMessage({
      channel: to,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (res.ok === false) throw new NotPosted(res.error ?? 'not_ok');
    lastPosted =
      typeof res.channel === 'string' && typeof res.ts === 'string' ? { channel: res.channel, ts: res.ts } : null;
  }

  /**
   * Posts the message carrying the events `ids` and settles them: `posted`, or a refusal recorded on them
   * and answered by the outbox (`later`: skipped until its backoff ends; `given_up`). A failure that is not
   * the message's (rate limit, 5xx, network) resolves `stop` with the error: the run ends there. Store
   * errors propagate.
   */
  async function deliver(
    message: BotMessage,
    ids: number[],
    what: string,
    opts: { plain: boolean; to?: () => Promise<string> },
  ): Promise<Delivered> {
    let plain = opts.plain;
    for (;;) {
      let error: unknown = null;
      try {
        const target = opts.to ? await opts.to() : channel;
        await send(plain ? { text: message.text.slice(0, 3_000) } : message, target);
      } catch (err) {
        error = err ?? new Error('unknown');
      }
      if (error === null) {
        await outbox.markSent(ids);
        return 'posted';
      }
      const failure = classifyDeliveryFailure(observeFailure(error));
      const after = await outbox.recordFailure(ids, failure);
      if (after.next === 'stop') return { stop: error };
      if (after.next === 'given_up') return 'given_up';
      log.warn(
        { code: 'slack_not_ok', error: failure.error, what, next: after.next },
        'Slack refused a notification; it is retried later and the rest go on',
      );
      if (after.next === 'later') return 'later';
      // Once more at once: a message refused for its content goes as plain text.
      if (failure.kind === 'permanent' && failure.cause === 'message') plain = true;
    }
  }

  /** Whether earlier attempts were refused for the content: then only plain text can go. */
  const refusedForContent = (events: readonly OutboxEvent[]) =>
    events.some((e) => e.lastDeliveryError !== null && MESSAGE_ERRORS.has(e.lastDeliveryError));

  /**
   * An approval request goes out as the approval with its buttons while it is still pending; its copy in
   * the channel is recorded, and with `approverDm` each approver gets one in a DM.
   */
  async function deliverApproval(event: CoreEvent, approval: PendingApproval, plain: boolean): Promise<Delivered> {
    const message = approvalMessage(approval);
    lastPosted = null;
    const outcome = await deliver(message, [event.id], event.kind, { plain });
    if (outcome !== 'posted') return outcome;
    const posted = lastPosted as { channel: string; ts: string } | null;
    try {
      if (posted) await outbox.recordApprovalMessage(approval.id, posted.channel, posted.ts);
      if (deps.approverDm) await dmApprovers(approval, message);
    } catch (err) {
      log.warn({ ...errorCode(err), approval: approval.id }, 'approval copies not (all) posted or recorded');
    }
    return outcome;
  }

  /** Each approver's DM copy, unless they have one already (a repeated run). Best effort, one by one. */
  async function dmApprovers(approval: PendingApproval, message: BotMessage): Promise<void> {
    const users = [...new Set(await deps.approverDm!())];
    const has = new Set(await outbox.approvalChannels(approval.id));
    for (const user of users) {
      try {
        const dm = await directChannel(user);
        if (has.has(dm)) continue;
        lastPosted = null;
        await send(message, dm);
        const posted = lastPosted as { channel: string; ts: string } | null;
        if (posted) await outbox.recordApprovalMessage(approval.id, posted.channel, posted.ts);
      } catch (err) {
        log.warn(
          { code: errorCode(err).code, error: observeFailure(err).slackError ?? null, approval: approval.id },
          'approval DM to an approver not posted',
        );
      }
    }
  }

  /** The DM channel with a Slack user (conversations.open answers the same one every time). */
  async function directChannel(userId: string): Promise<string> {
    if (!client.conversations) throw new NotPosted('no_conversations_client');
    const res = await client.conversations.open({ users: userId });
    if (res.ok === false || typeof res.channel?.id !== 'string') throw new NotPosted(res.error ?? 'not_ok');
    return res.channel.id;
  }

  /** One event's own message: to the requester's DM for a `request_outcome`, else to the channel. */
  async function deliverEvent(event: OutboxEvent): Promise<Delivered | 'nobody'> {
    const plain = refusedForContent([event]);
    if (event.kind !== 'request_outcome') {
      const approval = await outbox.pendingApproval(event);
      if (approval) return deliverApproval(event, approval, plain);
      return deliver(eventMessage(event), [event.id], event.kind, { plain });
    }
    const userId = slackRequester(event.detail);
    if (!userId) return 'nobody';
    const message = requestOutcomeMessage(event, { bindings: await outbox.bindingCount(event) });
    return deliver(message, [event.id], event.kind, { plain, to: () => directChannel(userId) });
  }

  /** Logs a failed post (codes only) and, for a rate limit, pauses posting until Slack's retryAfter. */
  function failed(err: unknown, what: string, count: number): RunEnd {
    const retryAfter = rateLimitRetryAfter(err);
    if (retryAfter !== null) {
      pausedUntil = clock.now().getTime() + retryAfter * 1000;
      log.warn(
        { code: 'slack_webapi_rate_limited_error', retryAfter, waiting: count },
        'Slack rate limit: notifications paused',
      );
      return { end: 'paused', until: pausedUntil };
    }
    const code = err instanceof NotPosted ? { code: 'slack_not_ok', error: err.slackError } : errorCode(err);
    log.warn({ ...code, what, waiting: count }, 'could not post a notification to Slack; will retry shortly');
    return { end: 'failed' };
  }

  async function pass(result: { posted: number; digested: number }): Promise<RunEnd> {
    if (clock.now().getTime() < pausedUntil) return { end: 'paused', until: pausedUntil };
    const events = await outbox.pending(batchSize);
    if (events.length === 0) return { end: 'done' };
    postedThisRun = 0;

    const individual = events.filter((e) => !isDigestEvent(e));
    const successes = events.filter(isDigestEvent);

    for (const event of individual.slice(0, maxPostsPerRun)) {
      const outcome = await deliverEvent(event);
      if (outcome === 'nobody') {
        // A requester who is no Slack user (the CLI): nobody to tell here; settled unsent.
        await outbox.markSent([event.id]);
        continue;
      }
      if (typeof outcome === 'object') return failed(outcome.stop, event.kind, individual.length - result.posted);
      if (outcome === 'posted') result.posted++;
    }

    const oldest = successes[0];
    if (oldest) {
      const now = clock.now();
      const due = now.getTime() - oldest.createdAt.getTime() >= digestIntervalMs || events.length >= batchSize;
      if (due) {
        const ids = successes.map((e) => e.id);
        const outcome = await deliver(
          digestMessage(successes, { since: oldest.createdAt, until: now }),
          ids,
          'digest',
          {
            plain: refusedForContent(successes),
          },
        );
        if (typeof outcome === 'object') return failed(outcome.stop, 'digest', successes.length);
        if (outcome === 'posted') result.digested = successes.length;
      }
    }
    return individual.length > maxPostsPerRun || events.length >= batchSize ? { end: 'more' } : { end: 'done' };
  }

  // ---- one run at a time -------------------------------------------------------------------------------

  /** The run in progress, if any: the one guard against two runs at once in this process. */
  let current: Promise<RunEnd> | null = null;
  /** A wake (or poll) arrived during a run: run once more after it, since it may have read too early. */
  let again = false;

  /** Runs one pass under the lease; null when a run is already in progress here (`again` is then set). */
  function exclusiveRun(result: { posted: number; digested: number }): Promise<RunEnd> | null {
    if (current) {
      again = true;
      return null;
    }
    const run = (async (): Promise<RunEnd> => {
      const claim = await outbox.whileClaimed(holder, () => pass(result));
      // Another replica holds the outbox: it posts, and it was woken by the same notification.
      return claim.claimed ? claim.value : { end: 'done' };
    })();
    current = run;
    const settle = (ended: RunEnd) => {
      current = null;
      schedule(ended);
    };
    run.then(settle, (err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'notifier run failed');
      settle({ end: 'failed' });
    });
    return run;
  }

  async function runOnce(): Promise<{ posted: number; digested: number }> {
    const result = { posted: 0, digested: 0 };
    await exclusiveRun(result);
    return result;
  }

  // ---- scheduling (start/stop) ---------------------------------------------------------------------------

  let started = false;
  let pollMs = 0;
  let failures = 0;
  /** No run before this (epoch ms, real time): a backoff or Slack's Retry-After holds wakes and polls too. */
  let notBefore = 0;
  let timer: NodeJS.Timeout | null = null;
  /** When `timer` fires (epoch ms, real time). */
  let timerAt = 0;
  let poller: NodeJS.Timeout | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;

  /** Runs in `delayMs` (not before `notBefore`), unless a run is already set for sooner. */
  function runIn(delayMs: number): void {
    if (!started) return;
    const now = Date.now();
    const at = Math.max(now + delayMs, notBefore);
    if (timer && timerAt <= at) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = null;
      exclusiveRun({ posted: 0, digested: 0 });
    }, at - now);
    timer.unref?.();
  }

  /** After a run: when the next one comes. */
  function schedule(ended: RunEnd): void {
    failures = ended.end === 'failed' ? failures + 1 : 0;
    const now = Date.now();
    if (ended.end === 'failed') notBefore = now + retryDelayMs(failures, pollMs || RETRY_DELAYS_MS.at(-1)!);
    else if (ended.end === 'paused')
      notBefore = now + Math.max(0, ended.until - clock.now().getTime()) + RATE_LIMIT_MARGIN_MS;
    else notBefore = 0;
    if (ended.end === 'failed' || ended.end === 'paused') runIn(0);
    else if (ended.end === 'more') runIn(spacingMs);
    if (again) {
      again = false;
      runIn(debounceMs);
    }
  }

  return {
    runOnce,
    async start(intervalMs: number) {
      if (started) return;
      started = true;
      pollMs = intervalMs;
      poller = setInterval(() => runIn(0), intervalMs);
      poller.unref?.();
      if (deps.wake) {
        try {
          unsubscribe = await deps.wake(() => runIn(debounceMs));
        } catch (err) {
          // Not fatal: the poll still delivers everything, only later.
          log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'cannot listen for new events; notifications follow the poll only',
          );
        }
      }
      runIn(0);
    },
    async stop() {
      started = false;
      if (poller) clearInterval(poller);
      if (timer) clearTimeout(timer);
      poller = null;
      timer = null;
      const unsub = unsubscribe;
      unsubscribe = null;
      await unsub?.().catch(() => undefined);
      await current?.catch(() => undefined);
    },
  };
}

/**
 * Who gets an approval request in a DM with SLACK_APPROVER_DM: the user ids in SLACK_APPROVERS and the
 * members of its user groups (a group that cannot be resolved is skipped: its members still see the channel).
 */
export function approverDmRecipients(
  approvers: readonly string[],
  groups: ApproverGroups | undefined,
  log: Logger,
): () => Promise<readonly string[]> {
  return async () => {
    const users = approvers.filter((id) => !id.startsWith('S'));
    for (const group of approvers.filter((id) => id.startsWith('S'))) {
      if (!groups) continue;
      try {
        users.push(...(await groups.members(group)));
      } catch (err) {
        log.warn({ group, err: err instanceof Error ? err.message : String(err) }, 'approver group not DMed');
      }
    }
    return users;
  };
}
