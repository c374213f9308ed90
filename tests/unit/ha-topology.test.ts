import { describe, expect, it } from 'vitest';
import {
  chooseDeployMember,
  type HaGroup,
  type HaTopology,
  haGroupKey,
  haPeers,
  syncGroupOf,
} from '../../core/domain/ha-topology.ts';

const dg = (name: string, type: string, members: string[], autoSync = false): HaGroup => ({
  name,
  type,
  autoSync,
  members,
});
const topology = (self: string, group: HaGroup | null): HaTopology => ({
  self,
  failoverState: 'standby',
  group,
  syncStatus: null,
  readAt: '2026-12-04T00:00:00.000Z',
});

describe('syncGroupOf: the group a device syncs certificates through', () => {
  const cases: [string, string, HaGroup[], string | null][] = [
    ['standalone: no group lists it', 'a', [dg('device_trust_group', 'sync-only', ['a', 'b'])], null],
    [
      'a sync-failover group wins over a sync-only one',
      'a',
      [dg('so', 'sync-only', ['a', 'b']), dg('sf', 'sync-failover', ['a', 'b'])],
      'sf',
    ],
    ['a sync-only group when that is all', 'a', [dg('so', 'sync-only', ['a', 'c'])], 'so'],
    ['built-in groups never', 'a', [dg('datasync-global-dg', 'sync-only', ['a', 'b'])], null],
    ['a group without the device is not its group', 'a', [dg('sf', 'sync-failover', ['b', 'c'])], null],
  ];
  it.each(cases)('%s', (_why, self, groups, expected) => {
    expect(syncGroupOf(self, groups)?.name ?? null).toBe(expected);
  });
});

describe('haGroupKey: which registered devices are one group', () => {
  it.each([
    ['standalone', null, null],
    ['a group of one is standalone', topology('a', dg('dg1', 'sync-failover', ['a'])), null],
    ['name and sorted members', topology('b', dg('dg1', 'sync-failover', ['b', 'a'])), 'dg1[a,b]'],
  ] as const)('%s', (_why, t, expected) => {
    expect(haGroupKey(t)).toBe(expected);
  });
  it('two clusters that both call their group dg1 are not one group', () => {
    expect(haGroupKey(topology('a', dg('dg1', 'sync-failover', ['a', 'b'])))).not.toBe(
      haGroupKey(topology('c', dg('dg1', 'sync-failover', ['c', 'd']))),
    );
  });
});

describe('chooseDeployMember: the member a group deploy writes to', () => {
  const m = (device: string, failoverState: string | null) => ({ device, failoverState });
  const cases: [string, ReturnType<typeof m>[], string | undefined, string | RegExp][] = [
    ['the active member', [m('lb1', 'standby'), m('lb2', 'active')], undefined, 'lb2'],
    ['the operator’s choice, even a standby', [m('lb1', 'active'), m('lb2', 'standby')], 'lb2', 'lb2'],
    [
      'a choice that is not a member is refused',
      [m('lb1', 'active')],
      'lb9',
      /not a registered member of device group dg1/,
    ],
    [
      'no active member is refused',
      [m('lb1', 'standby'), m('lb2', null)],
      undefined,
      /no member of device group dg1 is active \(lb1: standby, lb2: unreadable\)/,
    ],
    [
      'two active members (split brain) are refused',
      [m('lb1', 'active'), m('lb2', 'active')],
      undefined,
      /more than one member .* choose one with --via/,
    ],
  ];
  it.each(cases)('%s', (_why, members, chosen, expected) => {
    const choice = chooseDeployMember('dg1', members, chosen);
    if (typeof expected === 'string') expect(choice).toMatchObject({ ok: true, device: expected });
    else expect(choice.ok ? '' : choice.message).toMatch(expected);
  });
});

describe('haPeers: the other members, and which are registered', () => {
  it('matches peers to registered devices of the same group by device name', () => {
    const group = dg('dg1', 'sync-failover', ['bigip1', 'bigip2', 'bigip3']);
    const registered = [
      { name: 'lb-two', haTopology: topology('bigip2', group) },
      { name: 'other-cluster', haTopology: topology('bigip3', dg('dg1', 'sync-failover', ['bigip3', 'x'])) },
    ];
    expect(haPeers(topology('bigip1', group), registered)).toEqual([
      { name: 'bigip2', registeredAs: 'lb-two' },
      { name: 'bigip3', registeredAs: null },
    ]);
  });
});
