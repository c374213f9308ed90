import { describe, expect, it } from 'vitest';
import { type ReadyCondition, type ReadyFacts, readyCondition } from '../../core/domain/ready-condition.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const LATER = new Date('2026-07-01T00:00:00Z');
const EARLIER = new Date('2026-05-01T00:00:00Z');

const cases: [string, ReadyFacts, ReadyCondition][] = [
  ['issued and valid', { state: 'issued', serial: '0a', notAfter: LATER }, 'True'],
  ['issued and expired', { state: 'issued', serial: '0a', notAfter: EARLIER }, 'False'],
  ['expiring this very instant counts as expired', { state: 'issued', serial: '0a', notAfter: NOW }, 'False'],
  // A renewal runs beside the live certificate; older rows show a failed renewal as state `failed` with the
  // old certificate kept: still served, so still ready until it expires.
  ['renewal failed but the live certificate is valid', { state: 'failed', serial: '0a', notAfter: LATER }, 'True'],
  ['renewal failed and the live certificate expired', { state: 'failed', serial: '0a', notAfter: EARLIER }, 'False'],
  ['first issuance requested', { state: 'requested', serial: null, notAfter: null }, 'Unknown'],
  ['first issuance ordering', { state: 'ordering', serial: null, notAfter: null }, 'Unknown'],
  [
    'first issuance waiting for challenge content',
    { state: 'awaiting_challenge', serial: null, notAfter: null },
    'Unknown',
  ],
  ['first issuance finalizing', { state: 'finalizing', serial: null, notAfter: null }, 'Unknown'],
  ['first issuance failed (or denied)', { state: 'failed', serial: null, notAfter: null }, 'False'],
];

describe('readyCondition: cert-manager Ready for one certificate', () => {
  it.each(cases)('%s', (_, facts, expected) => {
    expect(readyCondition(facts, NOW)).toBe(expected);
  });
});
