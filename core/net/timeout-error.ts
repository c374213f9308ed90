/**
 * The error a hand-rolled socket or request timer settles with: it carries `ETIMEDOUT`, the code Node gives
 * a connect timeout, so one classification (`errnoCode`) covers both.
 */
export function timeoutError(): Error {
  return Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
}
