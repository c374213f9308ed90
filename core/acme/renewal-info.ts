/**
 * Pure parts of ARI (RFC 9773): reading a RenewalInfo response body and turning its Retry-After into the
 * delay before the next poll. The HTTP call itself is in the gateway.
 */

const HOUR_MS = 3_600_000;
/** Bounds for the next renewalInfo poll (reliability.md "Numbers to adopt"): Retry-After clamped to 1 h–7 d. */
export const ARI_MIN_RETRY_MS = HOUR_MS;
export const ARI_MAX_RETRY_MS = 7 * 24 * HOUR_MS;
/** When the CA sends no (or an unreadable) Retry-After: RFC 9773 §4.3.3's long-term-error interval. */
export const ARI_DEFAULT_RETRY_MS = 6 * HOUR_MS;

/** RFC 3339 date-time (what §4.2 requires for `start`/`end`); `Date.parse` alone accepts far more. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function parseTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string' || !RFC3339.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/**
 * `suggestedWindow` and `explanationURL` of a RenewalInfo body. The window is null when it is missing,
 * unparsable or has `end <= start`: §4.2 says to treat such a response as if none had been received (the
 * caller falls back to its own renewal rule). `explanationURL` is kept only when it is an http(s) URL.
 */
export function parseRenewalInfoBody(body: unknown): {
  window: { start: Date; end: Date } | null;
  explanationUrl: string | null;
} {
  const data = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const suggested =
    data.suggestedWindow && typeof data.suggestedWindow === 'object'
      ? (data.suggestedWindow as Record<string, unknown>)
      : {};
  const start = parseTimestamp(suggested.start);
  const end = parseTimestamp(suggested.end);
  const window = start && end && end.getTime() > start.getTime() ? { start, end } : null;
  return { window, explanationUrl: httpUrl(data.explanationURL) };
}

function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

/**
 * Milliseconds until the next renewalInfo poll from a Retry-After header (delta-seconds or HTTP-date),
 * clamped to [1 h, 7 d]; 6 h when the header is absent or unreadable. Jitter is the caller's job.
 */
export function ariRetryAfterMs(header: string | undefined, now = Date.now()): number {
  const value = header?.trim();
  let ms: number | undefined;
  if (value && /^\d+$/.test(value)) ms = Number(value) * 1000;
  else if (value && /[A-Za-z]/.test(value)) {
    // An HTTP-date (RFC 9110 §5.6.7) always names a day and month; this keeps V8's lenient Date.parse from
    // reading "1.5" as a date.
    const at = Date.parse(value);
    if (!Number.isNaN(at)) ms = at - now;
  }
  if (ms === undefined || !Number.isFinite(ms)) return ARI_DEFAULT_RETRY_MS;
  return Math.min(ARI_MAX_RETRY_MS, Math.max(ARI_MIN_RETRY_MS, ms));
}
