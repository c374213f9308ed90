import { describe, expect, it } from 'vitest';
import { type PeerCheck, peerVerdict } from '../../core/domain/peer-verdict.ts';

const FP = 'AB'.repeat(32);
const deviceFp = `SHA256/${FP.match(/../g)!.join(':')}`;
const expected = { fingerprint: FP, cert: '/Common/www_1.crt', waitedSeconds: 300 };
const base: PeerCheck = {
  peer: 'bigip2',
  group: 'dg1',
  groupStatus: 'in_sync',
  connected: true,
  unreadable: null,
  fingerprint: deviceFp,
  keyPresent: true,
  profilesNotSwitched: [],
  timedOut: false,
};

describe('peerVerdict: does a peer hold the deployed certificate', () => {
  const cases: [string, Partial<PeerCheck>, boolean, string | RegExp][] = [
    ['holds it (device fingerprint format)', {}, true, /^bigip2 holds \/Common\/www_1\.crt/],
    [
      'disconnected',
      { connected: false, fingerprint: null, groupStatus: 'disconnected', timedOut: true },
      false,
      'bigip2 is disconnected from device group dg1 and did not receive the sync; it keeps what it served before; the next deploy run retries',
    ],
    ['unreadable', { unreadable: 'connect ECONNREFUSED' }, false, /^bigip2 could not be read \(connect ECONNREFUSED\)/],
    [
      'sync timed out, changes pending',
      { fingerprint: null, groupStatus: 'changes_pending', timedOut: true },
      false,
      /^bigip2 did not receive the sync within 300 s \(group dg1 is changes pending\): \/Common\/www_1\.crt is missing/,
    ],
    [
      'another certificate under the name',
      { fingerprint: 'SHA256/00' },
      false,
      /has fingerprint SHA256\/00 although group dg1 reports in sync/,
    ],
    ['key missing', { keyPresent: false }, false, /the key is missing/],
    [
      'a profile not switched',
      { profilesNotSwitched: ['/Common/acme_www'] },
      false,
      /\/Common\/acme_www still point elsewhere/,
    ],
    ['disconnected but already holding it (synced before) is fine', { connected: false }, true, /holds/],
  ];
  it.each(cases)('%s', (_why, patch, ok, message) => {
    const v = peerVerdict({ ...base, ...patch }, expected);
    expect(v.ok).toBe(ok);
    if (typeof message === 'string') expect(v.message).toBe(message);
    else expect(v.message).toMatch(message);
  });
});
