import { webApi } from '@slack/bolt';
import { approverDmRecipients, createNotifier, type Notifier, type WakeSource } from '../bot/notifier.ts';
import type { ApproverGroups } from '../core/ports/approver-groups.ts';
import type { Config } from '../core/config.ts';
import { type Clock, systemClock } from '../core/ports/clock.ts';
import type { Logger } from '../core/ports/logger.ts';
import { createOutboxService, type OutboxServiceDeps } from '../core/services/outbox-service.ts';
import type { Database } from '../db/client.ts';
import { EVENTS_CHANNEL } from '../db/repositories/events.ts';

/**
 * How often the notifier looks at the outbox without being woken: the fallback for a notification lost
 * while the LISTEN connection was down (a reconnect also wakes it), and the clock for hourly digests.
 */
export const NOTIFY_POLL_MS = 30_000;

/** Wakes on every event the store announces, and after a LISTEN reconnect (notifications may be lost). */
export function outboxWakeups(database: Pick<Database, 'listen'>): WakeSource {
  return (onWake) => database.listen(EVENTS_CHANNEL, onWake, onWake);
}

export interface SlackNotifierOptions {
  pollMs?: number;
  holder?: string;
  clock?: Clock;
}

/** Builds and starts the outbox → Slack notifier of the bot role; resolves once it listens for events. */
export async function startSlackNotifier(
  rt: {
    store: OutboxServiceDeps['store'];
    database: Pick<Database, 'listen'>;
    approverGroups?: ApproverGroups | undefined;
  },
  config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_API_URL' | 'SLACK_NOTIFY_CHANNEL'> &
    Partial<Pick<Config, 'SLACK_APPROVER_DM' | 'SLACK_APPROVERS'>>,
  log: Logger,
  opts: SlackNotifierOptions = {},
): Promise<Notifier> {
  if (!config.SLACK_BOT_TOKEN || !config.SLACK_NOTIFY_CHANNEL)
    throw new Error('startSlackNotifier needs SLACK_BOT_TOKEN and SLACK_NOTIFY_CHANNEL');
  // Its own client: it must see rate limits (and wait for Retry-After) instead of Bolt's client retrying
  // inside a run for minutes.
  const client = new webApi.WebClient(config.SLACK_BOT_TOKEN, {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2 },
    logLevel: webApi.LogLevel.ERROR,
  });
  const clock = opts.clock ?? systemClock;
  const notifier = createNotifier({
    outbox: createOutboxService({ store: rt.store, clock, log }),
    client,
    channel: config.SLACK_NOTIFY_CHANNEL,
    clock,
    log,
    wake: outboxWakeups(rt.database),
    ...(config.SLACK_APPROVER_DM
      ? { approverDm: approverDmRecipients(config.SLACK_APPROVERS ?? [], rt.approverGroups, log) }
      : {}),
    ...(opts.holder ? { holder: opts.holder } : {}),
  });
  await notifier.start(opts.pollMs ?? NOTIFY_POLL_MS);
  return notifier;
}
