/**
 * The one bad-nonce retry rule for every signed request to the CA (RFC 8555 §6.5). A rejected nonce means the
 * CA did nothing with the request, so resending it is always safe; the rejection carries a fresh nonce, so the
 * first resends go out at once and only a CA that keeps refusing is given a short, growing pause.
 */

export const BAD_NONCE_TYPE = 'urn:ietf:params:acme:error:badNonce';

export const BAD_NONCE_RETRY = {
  /** Sends of one request in all, the first included (reliability.md: at most 10). */
  maxAttempts: 10,
  /** Only this answer is retried here: every other error is the caller's to classify and schedule. */
  retryOn: { status: 400, type: BAD_NONCE_TYPE },
  /** Pause before send 2, 3, … 10; the later ones spread a CA's burst of rejections (≤ 630 ms in all). */
  backoffMs: [0, 0, 0, 10, 20, 40, 80, 160, 320],
} as const;

export type BadNonceDecision = { retry: false } | { retry: true; delayMs: number };

/** After send number `attempt` answered `status` with problem `problemType`: send again, and after how long. */
export function badNonceRetry(attempt: number, status: number, problemType: string | undefined): BadNonceDecision {
  const { maxAttempts, retryOn, backoffMs } = BAD_NONCE_RETRY;
  if (status !== retryOn.status || problemType !== retryOn.type || attempt >= maxAttempts) return { retry: false };
  return { retry: true, delayMs: backoffMs[attempt - 1] ?? backoffMs[backoffMs.length - 1]! };
}
