import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import {
  createOutboxService,
  type DeliveryFailure,
  MAX_REFUSED_ATTEMPTS,
  type OutboxServiceDeps,
} from '../../core/services/outbox-service.ts';

const AT = new Date('2026-12-01T00:00:00Z');

/** Only what settling touches: `markDelivered` calls are recorded; anything else is not expected here. */
function recordingOutbox() {
  const delivered: number[][] = [];
  const unexpected = () => {
    throw new Error('not expected in this test');
  };
  const store = {
    events: { markDelivered: async (ids: number[]) => void delivered.push(ids) },
    approvals: { findById: unexpected },
    certificates: { findById: unexpected },
    leases: {},
  } as unknown as OutboxServiceDeps['store'];
  const outbox = createOutboxService({ store, clock: { now: () => AT, sleep: async () => {} }, log: silentLogger });
  return { outbox, delivered };
}

describe('outbox: bounded retries of a refused message', () => {
  const table: { name: string; failures: DeliveryFailure[]; answers: ('retry' | 'drop')[] }[] = [
    { name: 'a message refused once is tried again', failures: ['refused'], answers: ['retry'] },
    {
      name: `a message refused ${MAX_REFUSED_ATTEMPTS} times in a row is given up`,
      failures: ['refused', 'refused'],
      answers: ['retry', 'drop'],
    },
    {
      name: 'transient failures (rate limit, network) never give a message up',
      failures: ['transient', 'transient', 'transient', 'transient'],
      answers: ['retry', 'retry', 'retry', 'retry'],
    },
    {
      name: 'a transient failure between two refusals starts the count again',
      failures: ['refused', 'transient', 'refused', 'refused'],
      answers: ['retry', 'retry', 'retry', 'drop'],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { outbox, delivered } = recordingOutbox();
      expect(row.failures.map((f) => outbox.markFailed([7, 8], f))).toEqual(row.answers);
      expect(delivered).toEqual([]);
    });
  }

  it('counts each message (its set of events) on its own', () => {
    const { outbox } = recordingOutbox();
    expect(outbox.markFailed([1], 'refused')).toBe('retry');
    expect(outbox.markFailed([2], 'refused')).toBe('retry');
    expect(outbox.markFailed([1], 'refused')).toBe('drop');
  });

  it('settles sent and dropped events alike, and a sent message starts its count again', async () => {
    const { outbox, delivered } = recordingOutbox();
    outbox.markFailed([3], 'refused');
    await outbox.markSent([3]);
    expect(outbox.markFailed([3], 'refused')).toBe('retry');
    await outbox.markDropped([4, 5]);
    expect(delivered).toEqual([[3], [4, 5]]);
  });
});

describe('outbox: which approval an event shows', () => {
  it('only an approval_requested event names one', async () => {
    const { outbox } = recordingOutbox();
    const event = { kind: 'renewed', detail: { approvalId: 'a1' }, subject: 'x' } as unknown as CoreEvent;
    expect(await outbox.pendingApproval(event)).toBeNull();
  });
});
