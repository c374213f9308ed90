import { describe, expect, it } from 'vitest';
import {
  type CoreTlsAlpnChallenge,
  type HookTlsAlpnChallenge,
  hookTlsAlpnShadowed,
  presentedTlsAlpnSource,
} from '../../core/domain/tls-alpn-source.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const LATER = new Date('2026-03-08T12:00:00Z');
const EARLIER = new Date('2026-02-28T12:00:00Z');

const pem = (body: string) =>
  `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
const CORE_CERT = pem('MIIB'.padEnd(120, 'A'));
const OTHER_CERT = pem('MIIB'.padEnd(120, 'B'));

const core = (expiresAt: Date | null, certPem = CORE_CERT): CoreTlsAlpnChallenge => ({ certPem, expiresAt });
const hook = (certPem = OTHER_CERT): HookTlsAlpnChallenge => ({ certPem });

describe('presentedTlsAlpnSource: which certificate a name presents', () => {
  it.each([
    ['nothing pending anywhere: refuse the handshake', null, null, null],
    ['only the core: the core', core(LATER), null, 'core'],
    ['only the hook: the hook', null, hook(), 'hook'],
    ['both, the core authorization live: the core wins', core(LATER), hook(), 'core'],
    ['both, the CA gave no expiry: the core wins', core(null), hook(), 'core'],
    ['both, the core authorization expired: the hook', core(EARLIER), hook(), 'hook'],
    ['the core authorization expiring exactly now counts as expired', core(NOW), hook(), 'hook'],
    ['only an expired core authorization: nothing', core(EARLIER), null, null],
  ] as const)('%s', (_scenario, coreChallenge, hookChallenge, expected) => {
    expect(presentedTlsAlpnSource(coreChallenge, hookChallenge, NOW)).toBe(expected);
  });
});

describe('hookTlsAlpnShadowed: whether a hook entry would never be presented', () => {
  it.each([
    ['no core challenge: presented', null, hook(), null],
    [
      'a live core challenge with another certificate: shadowed until its expiry',
      core(LATER),
      hook(),
      { until: LATER },
    ],
    ['a core challenge without expiry: shadowed, no end given', core(null), hook(), { until: null }],
    ['an expired core challenge: presented', core(EARLIER), hook(), null],
    [
      'the core’s own certificate (the core publishing through --builtin): not shadowed',
      core(LATER),
      hook(CORE_CERT),
      null,
    ],
    [
      'the same certificate with other line breaks and CRLF: not shadowed',
      core(LATER),
      hook(CORE_CERT.replace(/\n/g, '\r\n').replace(/(.{32})/g, '$1\n')),
      null,
    ],
  ] as const)('%s', (_scenario, coreChallenge, hookChallenge, expected) => {
    expect(hookTlsAlpnShadowed(coreChallenge, hookChallenge, NOW)).toEqual(expected);
  });

  it('agrees with presentedTlsAlpnSource: whatever is not shadowed is what is presented, or the same certificate', () => {
    for (const c of [null, core(LATER), core(null), core(EARLIER), core(NOW)]) {
      for (const h of [hook(), hook(CORE_CERT)]) {
        const shadowed = hookTlsAlpnShadowed(c, h, NOW) !== null;
        const presented = presentedTlsAlpnSource(c, h, NOW);
        expect(shadowed).toBe(presented === 'core' && h.certPem !== c?.certPem);
      }
    }
  });
});
