import { describe, expect, it } from 'vitest';
import {
  afterPermanentRefusal,
  classifyDeliveryFailure,
  type DeliveryFailure,
  type DeliveryObservation,
  MAX_DELIVERY_ATTEMPTS,
} from '../../core/domain/delivery-failure.ts';

describe('classifyDeliveryFailure: what a refused notification means', () => {
  const table: { name: string; seen: DeliveryObservation; is: DeliveryFailure }[] = [
    {
      name: 'invalid_blocks: the message itself',
      seen: { slackError: 'invalid_blocks' },
      is: { kind: 'permanent', cause: 'message', error: 'invalid_blocks' },
    },
    {
      name: 'msg_too_long: the message itself',
      seen: { slackError: 'msg_too_long' },
      is: { kind: 'permanent', cause: 'message', error: 'msg_too_long' },
    },
    {
      name: 'msg_blocks_too_long: the message itself',
      seen: { slackError: 'msg_blocks_too_long' },
      is: { kind: 'permanent', cause: 'message', error: 'msg_blocks_too_long' },
    },
    {
      name: 'channel_not_found: where it goes',
      seen: { slackError: 'channel_not_found', httpStatus: 200 },
      is: { kind: 'permanent', cause: 'destination', error: 'channel_not_found' },
    },
    {
      name: 'not_in_channel: where it goes',
      seen: { slackError: 'not_in_channel' },
      is: { kind: 'permanent', cause: 'destination', error: 'not_in_channel' },
    },
    {
      name: 'is_archived: where it goes',
      seen: { slackError: 'is_archived' },
      is: { kind: 'permanent', cause: 'destination', error: 'is_archived' },
    },
    {
      name: 'HTTP 429 with Retry-After: rate limited for that long',
      seen: { httpStatus: 429, retryAfterSeconds: 7 },
      is: { kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 7000 },
    },
    {
      name: 'ratelimited without Retry-After: a second',
      seen: { slackError: 'ratelimited' },
      is: { kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 1000 },
    },
    { name: 'HTTP 503: retryable', seen: { httpStatus: 503 }, is: { kind: 'retryable', error: 'http_503' } },
    {
      name: 'internal_error from Slack: retryable',
      seen: { slackError: 'internal_error' },
      is: { kind: 'retryable', error: 'internal_error' },
    },
    {
      name: 'a timeout (no answer): retryable',
      seen: { code: 'ETIMEDOUT' },
      is: { kind: 'retryable', error: 'ETIMEDOUT' },
    },
    {
      name: 'invalid_auth blocks every message alike: retryable, never blamed on one message',
      seen: { slackError: 'invalid_auth' },
      is: { kind: 'retryable', error: 'invalid_auth' },
    },
    { name: 'nothing known: retryable', seen: {}, is: { kind: 'retryable', error: 'unknown' } },
  ];
  for (const row of table) {
    it(row.name, () => expect(classifyDeliveryFailure(row.seen)).toEqual(row.is));
  }
});

describe('afterPermanentRefusal: bounded retries with backoff', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const at = (ms: number) => ({ next: 'retry', at: new Date(now.getTime() + ms) });
  const table: { attempts: number; decision: unknown }[] = [
    { attempts: 1, decision: at(0) },
    { attempts: 2, decision: at(60_000) },
    { attempts: 3, decision: at(300_000) },
    { attempts: 4, decision: at(1_800_000) },
    { attempts: MAX_DELIVERY_ATTEMPTS, decision: { next: 'give_up' } },
    { attempts: MAX_DELIVERY_ATTEMPTS + 3, decision: { next: 'give_up' } },
  ];
  for (const row of table) {
    it(`after attempt ${row.attempts}`, () => expect(afterPermanentRefusal(row.attempts, now)).toEqual(row.decision));
  }
});
