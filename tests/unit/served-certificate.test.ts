import { describe, expect, it } from 'vitest';
import { parseDestination, sameSerial, virtualTargets } from '../../core/domain/served-certificate.ts';

describe('parseDestination: a virtual server destination → where to connect', () => {
  it.each([
    ['/Common/10.0.0.10:443', { host: '10.0.0.10', port: 443 }],
    ['/Common/127.0.0.1:40123', { host: '127.0.0.1', port: 40123 }],
    ['/Common/10.0.0.10%2:443', { host: '10.0.0.10', port: 443 }],
    ['/Common/2001:db8::1.443', { host: '2001:db8::1', port: 443 }],
    ['/Tenant/app/192.0.2.5:8443', { host: '192.0.2.5', port: 8443 }],
    ['/Common/0.0.0.0:443', null],
    ['/Common/any:443', null],
    ['/Common/10.0.0.10:0', null],
    ['/Common/10.0.0.10:http', null],
    ['', null],
    [null, null],
  ] as const)('%s', (destination, expected) => {
    expect(parseDestination(destination)).toEqual(expected);
  });
});

describe('virtualTargets: the handshakes to make', () => {
  it('each virtual using a bound profile, once per bound profile, with its SNI name; others ignored; no address named', () => {
    const { targets, skipped } = virtualTargets(
      [
        {
          fullPath: '/Common/vs_a',
          destination: '/Common/10.0.0.1:443',
          profiles: ['/Common/www', '/Common/api', '/Common/http'],
        },
        { fullPath: '/Common/vs_other', destination: '/Common/10.0.0.2:443', profiles: ['/Common/other'] },
        { fullPath: '/Common/vs_wild', destination: '/Common/0.0.0.0:443', profiles: ['/Common/www'] },
      ],
      [
        { fullPath: '/Common/www', serverName: null },
        { fullPath: '/Common/api', serverName: 'api.example.com' },
      ],
    );
    expect(targets).toEqual([
      { virtual: '/Common/vs_a', profile: '/Common/www', host: '10.0.0.1', port: 443, servername: null },
      { virtual: '/Common/vs_a', profile: '/Common/api', host: '10.0.0.1', port: 443, servername: 'api.example.com' },
    ]);
    expect(skipped).toEqual(['/Common/vs_wild (destination /Common/0.0.0.0:443)']);
  });
});

describe('sameSerial', () => {
  it.each([
    ['7A:00:10', '7a0010', true],
    ['007a0010', '7A0010', true],
    ['7a0010', '7a0011', false],
    [null, '7a', false],
    ['', '', false],
  ] as const)('%s vs %s → %s', (a, b, same) => {
    expect(sameSerial(a, b)).toBe(same);
  });
});
