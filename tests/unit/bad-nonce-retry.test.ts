import { describe, expect, it } from 'vitest';
import { BAD_NONCE_RETRY, BAD_NONCE_TYPE, badNonceRetry } from '../../core/acme/bad-nonce-retry.ts';

const malformed = 'urn:ietf:params:acme:error:malformed';

describe('badNonceRetry: the one bad-nonce rule', () => {
  it.each([
    ['a first badNonce is resent at once', 1, 400, BAD_NONCE_TYPE, { retry: true, delayMs: 0 }],
    ['the third is still resent at once', 3, 400, BAD_NONCE_TYPE, { retry: true, delayMs: 0 }],
    ['the fourth waits a little', 4, 400, BAD_NONCE_TYPE, { retry: true, delayMs: 10 }],
    ['the ninth waits longest', 9, 400, BAD_NONCE_TYPE, { retry: true, delayMs: 320 }],
    ['the tenth send is the last', 10, 400, BAD_NONCE_TYPE, { retry: false }],
    ['past the last, never', 11, 400, BAD_NONCE_TYPE, { retry: false }],
    ['another problem type is the caller’s', 1, 400, malformed, { retry: false }],
    ['badNonce type on a status other than 400 is not the rule’s', 1, 500, BAD_NONCE_TYPE, { retry: false }],
    ['rate limits are the caller’s (Retry-After)', 1, 429, 'urn:ietf:params:acme:error:rateLimited', { retry: false }],
    ['a success is returned', 1, 200, undefined, { retry: false }],
  ])('%s', (_, attempt, status, type, expected) => {
    expect(badNonceRetry(attempt, status, type)).toEqual(expected);
  });

  it('allows at most 10 sends in all, with at most 630 ms of pauses', () => {
    let sends = 1;
    let pausedMs = 0;
    for (let d = badNonceRetry(sends, 400, BAD_NONCE_TYPE); d.retry; d = badNonceRetry(sends, 400, BAD_NONCE_TYPE)) {
      pausedMs += d.delayMs;
      sends += 1;
    }
    expect(sends).toBe(BAD_NONCE_RETRY.maxAttempts);
    expect(sends).toBe(10);
    expect(pausedMs).toBe(630);
  });
});
