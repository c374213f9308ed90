import { InvalidArgumentError } from 'commander';
import { CORE_EVENT_KINDS, type CoreEventKind } from '../core/domain/core-event.ts';
import { MAX_LIST_LIMIT } from '../core/services/activity-service.ts';

/**
 * Option parsers for the listing commands (`events`, `audit`). Bad input fails here, before anything is read,
 * as a usage error (exit code 2) that says what is accepted.
 */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const DURATION = /^(\d{1,6})([smhdw])$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** `--since`: a duration back from now (`30m`, `1h`, `7d`, `2w`), or an ISO date or time (UTC unless it has an offset). */
export function parseSince(value: string, now: number = Date.now()): Date {
  const v = value.trim();
  const duration = DURATION.exec(v);
  if (duration) return new Date(now - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  const iso = ISO.exec(v);
  if (iso) {
    // A time without an offset is UTC, as every time this tool prints is.
    const hasTime = /[T ]\d/.test(v);
    const at = new Date(hasTime && !iso[1] ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T'));
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new InvalidArgumentError(
    'must be a duration back from now (30m, 1h, 7d, 2w) or an ISO date or time (2030-01-31, 2030-01-31T12:00:00Z)',
  );
}

export function parseLimit(value: string): number {
  const n = /^\d{1,7}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
  return n;
}

/** `--type`: one or more event kinds, repeatable or comma-separated. */
export function parseEventKinds(value: string, previous: CoreEventKind[] = []): CoreEventKind[] {
  const kinds = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(CORE_EVENT_KINDS as string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ') || '""'} (types: ${CORE_EVENT_KINDS.join(', ')})`,
    );
  }
  return [...new Set([...previous, ...(kinds as CoreEventKind[])])];
}
