import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import {
  type DeliveryFailure,
  DELIVERY_RETRY_DELAYS_MS,
  MAX_DELIVERY_ATTEMPTS,
} from '../../core/domain/delivery-failure.ts';
import { createOutboxService, type OutboxServiceDeps } from '../../core/services/outbox-service.ts';

const AT = new Date('2026-12-01T00:00:00Z');

/** Only what settling touches, in memory: attempts per event id, deferrals and settlements are recorded. */
function recordingOutbox() {
  const delivered: number[][] = [];
  const givenUp: number[][] = [];
  const deferred: { ids: number[]; until: Date }[] = [];
  const attempts = new Map<number, number>();
  const unexpected = () => {
    throw new Error('not expected in this test');
  };
  const store = {
    events: {
      markDelivered: async (ids: number[]) => void delivered.push(ids),
      recordDeliveryFailure: async (ids: number[], _error: string, count: boolean) => {
        for (const id of ids) attempts.set(id, (attempts.get(id) ?? 0) + (count ? 1 : 0));
        return Math.max(0, ...ids.map((id) => attempts.get(id) ?? 0));
      },
      deferDelivery: async (ids: number[], until: Date) => void deferred.push({ ids, until }),
      giveUpDelivery: async (ids: number[]) => void givenUp.push(ids),
    },
    approvals: { findById: unexpected },
    certificates: { findById: unexpected },
    leases: {},
  } as unknown as OutboxServiceDeps['store'];
  const outbox = createOutboxService({ store, clock: { now: () => AT, sleep: async () => {} }, log: silentLogger });
  return { outbox, delivered, givenUp, deferred };
}

const refused: DeliveryFailure = { kind: 'permanent', cause: 'message', error: 'invalid_blocks' };
const noChannel: DeliveryFailure = { kind: 'permanent', cause: 'destination', error: 'channel_not_found' };
const serverError: DeliveryFailure = { kind: 'retryable', error: 'http_503' };
const limited: DeliveryFailure = { kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 3000 };

describe('outbox: bounded retries of a refused message', () => {
  const table: { name: string; failures: DeliveryFailure[]; answers: string[] }[] = [
    { name: 'a message refused once is tried again at once (as plain text)', failures: [refused], answers: ['now'] },
    {
      name: `a message refused ${MAX_DELIVERY_ATTEMPTS} times is given up, with a growing backoff between`,
      failures: [refused, refused, refused, refused, refused],
      answers: ['now', 'later', 'later', 'later', 'given_up'],
    },
    {
      name: 'a destination refusal (channel_not_found) is bounded the same way',
      failures: [noChannel, noChannel, noChannel, noChannel, noChannel],
      answers: ['now', 'later', 'later', 'later', 'given_up'],
    },
    {
      name: 'retryable failures (5xx, rate limit) never give a message up: the run stops',
      failures: [serverError, limited, serverError, limited, serverError, limited],
      answers: ['stop', 'stop', 'stop', 'stop', 'stop', 'stop'],
    },
    {
      name: 'retryable failures between refusals do not count as attempts',
      failures: [refused, serverError, refused, limited, refused, refused, refused],
      answers: ['now', 'stop', 'later', 'stop', 'later', 'later', 'given_up'],
    },
  ];
  for (const row of table) {
    it(row.name, async () => {
      const { outbox, delivered, givenUp } = recordingOutbox();
      const answers: string[] = [];
      for (const f of row.failures) answers.push((await outbox.recordFailure([7, 8], f)).next);
      expect(answers).toEqual(row.answers);
      expect(delivered).toEqual([]);
      expect(givenUp).toEqual(row.answers.at(-1) === 'given_up' ? [[7, 8]] : []);
    });
  }

  it('defers a refused message by the backoff table and counts each event on its own', async () => {
    const { outbox, deferred } = recordingOutbox();
    expect((await outbox.recordFailure([1], refused)).next).toBe('now');
    expect((await outbox.recordFailure([2], refused)).next).toBe('now');
    expect(await outbox.recordFailure([1], refused)).toEqual({
      next: 'later',
      at: new Date(AT.getTime() + DELIVERY_RETRY_DELAYS_MS[1]!),
    });
    expect(deferred).toEqual([{ ids: [1], until: new Date(AT.getTime() + DELIVERY_RETRY_DELAYS_MS[1]!) }]);
  });

  it('settles a sent message as delivered', async () => {
    const { outbox, delivered } = recordingOutbox();
    await outbox.markSent([3]);
    expect(delivered).toEqual([[3]]);
  });
});

describe('outbox: which approval an event shows', () => {
  it('only an approval_requested event names one', async () => {
    const { outbox } = recordingOutbox();
    const event = { kind: 'renewed', detail: { approvalId: 'a1' }, subject: 'x' } as unknown as CoreEvent;
    expect(await outbox.pendingApproval(event)).toBeNull();
  });
});
