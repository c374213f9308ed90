import { describe, expect, it } from 'vitest';
import type { DeviceObject } from '../../core/domain/deployment.ts';
import { purgePlan } from '../../core/domain/purge-plan.ts';

const object = (kind: DeviceObject['kind'], fullPath: string): DeviceObject => ({
  id: fullPath,
  deviceId: 'd',
  certificateId: 'c',
  kind,
  fullPath,
  serial: '01',
  installedAt: new Date(0),
  removedAt: null,
});
const CERT = object('cert', '/Common/www_20270101-aaaaaaaa.crt');
const KEY = object('key', '/Common/www_20270101-aaaaaaaa.key');
const CHAIN = object('chain', '/Common/www_20270101-aaaaaaaa_chain.crt');
const OLD_CERT = object('cert', '/Common/www_20261001-bbbbbbbb.crt');
const OLD_KEY = object('key', '/Common/www_20261001-bbbbbbbb.key');
const entry = (cert: string, key: string, chain = 'none') => ({ cert, key, chain });
const profile = (fullPath: string, ...certKeyChain: ReturnType<typeof entry>[]) => ({ fullPath, certKeyChain });

describe('purgePlan', () => {
  const cases: [string, DeviceObject[], ReturnType<typeof profile>[], string[], [string, string[]][]][] = [
    [
      'nothing on the device uses them: all go, certificates before chains before keys',
      [KEY, CHAIN, CERT],
      [],
      [CERT.fullPath, CHAIN.fullPath, KEY.fullPath],
      [],
    ],
    [
      'a profile serving the current objects keeps cert, key and chain; old ones go',
      [KEY, OLD_KEY, CERT, OLD_CERT, CHAIN],
      [profile('/Common/app_ssl', entry(CERT.fullPath, KEY.fullPath, CHAIN.fullPath))],
      [OLD_CERT.fullPath, OLD_KEY.fullPath],
      [
        [CERT.fullPath, ['/Common/app_ssl']],
        [CHAIN.fullPath, ['/Common/app_ssl']],
        [KEY.fullPath, ['/Common/app_ssl']],
      ],
    ],
    [
      'a foreign profile in another partition that uses only the key keeps the key, and says who uses it',
      [CERT, KEY],
      [
        profile('/Tenant/other', entry('/Tenant/other.crt', KEY.fullPath)),
        profile('/Common/second', entry('/Common/x.crt', KEY.fullPath)),
      ],
      [CERT.fullPath],
      [[KEY.fullPath, ['/Tenant/other', '/Common/second']]],
    ],
    ['no objects: nothing to do', [], [profile('/Common/app_ssl', entry(CERT.fullPath, KEY.fullPath))], [], []],
  ];
  it.each(cases)('%s', (_name, objects, profiles, removed, kept) => {
    const plan = purgePlan(objects, profiles);
    expect(plan.remove.map((o) => o.fullPath)).toEqual(removed);
    expect(plan.keep.map((k) => [k.object.fullPath, k.usedBy])).toEqual(kept);
  });
});
