import { describe, expect, it } from 'vitest';
import { cacheReadiness, type Readiness, readinessResponse } from '../../responder/readiness.ts';

describe('cacheReadiness', () => {
  const since = new Date('2026-03-01T10:00:00.000Z');
  it.each([
    ['fresh', { fresh: true } as const, 3, { state: 'ready' }],
    [
      'stale, several tokens',
      { fresh: false, since, reason: 'x' } as const,
      3,
      { state: 'degraded', detail: 'database unreachable since 2026-03-01T10:00:00.000Z; serving 3 cached challenges' },
    ],
    [
      'stale, one token',
      { fresh: false, since, reason: 'x' } as const,
      1,
      { state: 'degraded', detail: 'database unreachable since 2026-03-01T10:00:00.000Z; serving 1 cached challenge' },
    ],
    [
      'stale, empty',
      { fresh: false, since, reason: 'x' } as const,
      0,
      { state: 'degraded', detail: 'database unreachable since 2026-03-01T10:00:00.000Z; serving 0 cached challenges' },
    ],
  ])('%s', (_name, health, cached, expected) => {
    expect(cacheReadiness(health, cached)).toEqual(expected);
  });
});

describe('readinessResponse: degraded is 200 (the cache still answers), not ready is 503', () => {
  it.each<[boolean | Readiness, number, string]>([
    [true, 200, 'ready\n'],
    [false, 503, 'not ready\n'],
    [{ state: 'ready' }, 200, 'ready\n'],
    [
      { state: 'degraded', detail: 'database unreachable since 2026-03-01T10:00:00.000Z; serving 2 cached challenges' },
      200,
      'degraded: database unreachable since 2026-03-01T10:00:00.000Z; serving 2 cached challenges\n',
    ],
    [{ state: 'not_ready', detail: 'db_error' }, 503, 'not ready: db_error\n'],
  ])('%j → %i %j', (readiness, status, body) => {
    expect(readinessResponse(readiness)).toEqual({ status, body });
  });
});
