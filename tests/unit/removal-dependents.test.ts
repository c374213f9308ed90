import { describe, expect, it } from 'vitest';
import { NO_DEPENDENTS, type RemovalDependents, removalRefusal } from '../../core/domain/removal-dependents.ts';

const with_ = (d: Partial<RemovalDependents>): RemovalDependents => ({ ...NO_DEPENDENTS, ...d });
const binding = (device: string, profile: string) => ({ device, profile });

describe('removalRefusal', () => {
  const cases: [string, string, RemovalDependents, string | null][] = [
    ['nothing depends on it: no refusal', 'certificate "www"', NO_DEPENDENTS, null],
    [
      'one binding names the device and the profile',
      'certificate "www"',
      with_({ bindings: [binding('bigip1', '/Common/app_ssl')] }),
      'certificate "www" is still in use: bound to device bigip1 profile /Common/app_ssl',
    ],
    [
      'bindings, certificates and approvals in a fixed order, counted and named',
      'certificate "www"',
      with_({
        pendingApprovals: 1,
        certificates: ['a', 'b'],
        bindings: [binding('bigip1', '/Common/app_ssl'), binding('bigip2', '/Tenant/app')],
      }),
      'certificate "www" is still in use: 2 certificates: a, b; bound to device bigip1 profile /Common/app_ssl, ' +
        'device bigip2 profile /Tenant/app; 1 pending approval',
    ],
    [
      'a profile names its domains before its certificates; plural approvals',
      'profile "demo"',
      with_({ domains: ['www.example.com'], certificates: ['www'], pendingApprovals: 3 }),
      'profile "demo" is still in use: 1 domain: www.example.com; 1 certificate: www; 3 pending approvals',
    ],
    [
      'a domain covered by one certificate',
      'domain "www.example.com"',
      with_({ certificates: ['www'] }),
      'domain "www.example.com" is still in use: 1 certificate: www',
    ],
    [
      'long lists are cut after five names and say how many more',
      'profile "big"',
      with_({ certificates: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'] }),
      'profile "big" is still in use: 7 certificates: c1, c2, c3, c4, c5, and 2 more',
    ],
    [
      'long binding lists too',
      'certificate "www"',
      with_({ bindings: ['a', 'b', 'c', 'd', 'e', 'f'].map((d) => binding(d, '/Common/p')) }),
      'certificate "www" is still in use: bound to device a profile /Common/p, device b profile /Common/p, ' +
        'device c profile /Common/p, device d profile /Common/p, device e profile /Common/p, and 1 more',
    ],
  ];
  it.each(cases)('%s', (_name, subject, dependents, expected) => {
    expect(removalRefusal(subject, dependents)).toBe(expected);
  });
});
