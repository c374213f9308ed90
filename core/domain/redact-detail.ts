/**
 * The last guard before an event's or audit entry's detail is shown: the outbox and the audit log never hold
 * a secret by contract, and this keeps a slip in some future writer from reaching a terminal or a channel.
 * Values under secret-sounding keys, and any string holding a private-key PEM, become `[redacted]`.
 */
const SECRET_KEY = /password|passphrase|secret|private|hmac|keypem|sealed|verifier|credential/i;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
export const REDACTED = '[redacted]';

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return PRIVATE_PEM.test(value) ? REDACTED : value;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redactValue(v, depth + 1)]),
  );
}

export function redactDetail(detail: Record<string, unknown>): Record<string, unknown> {
  return redactValue(detail, 0) as Record<string, unknown>;
}
