import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackUserGroups, type SlackApiCall } from '../../bot/slack-user-groups.ts';
import type { Approval } from '../../core/domain/approval.ts';
import { isCoreError } from '../../core/errors.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { type BotHarness, messageText, startBotHarness } from './bot-harness.ts';

/**
 * Approvers given as Slack user groups (S…) beside user ids in SLACK_APPROVERS: a member's click decides
 * (checked by the bot and again by the core, over one cache of usergroups.users.list), a non-member is
 * refused naming the group, and a group Slack does not resolve refuses everyone in it (fail closed).
 */
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const MALLORY = 'U0MALLORY';

let n = 0;
async function seed(h: BotHarness): Promise<Approval> {
  const name = `g${++n}.example.com`;
  const profile = makeProfile({ name: `p-${name}` });
  await h.store.profiles.insert(profile);
  const cert = makeCertificate(profile.id, { name, commonName: name, state: 'issued', serial: '0a' });
  await h.store.certificates.insert(cert);
  return h.services.approvals.request('renewal', cert, { names: [name] }, 'scheduler');
}

async function respondedText(h: BotHarness, id: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const [r] = h.stub.responses(id);
    if (r) return messageText(r);
    if (Date.now() > deadline) throw new Error('no answer to the click');
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function settled(h: BotHarness, id: string): Promise<Approval> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const a = (await h.store.approvals.findById(id))!;
    if (a.state !== 'pending' || Date.now() > deadline) return a;
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe('approver user groups through the real receiver', () => {
  let h: BotHarness;
  let failing: BotHarness;

  beforeAll(async () => {
    [h, failing] = await Promise.all([
      startBotHarness({ env: { SLACK_APPROVERS: `S0OPS,${BOB}` } }),
      startBotHarness({ env: { SLACK_APPROVERS: 'S0PAID' } }),
    ]);
    h.stub.override('usergroups.users.list', (f) =>
      f['usergroup'] === 'S0OPS' ? { ok: true, users: [CAROL, 'U0DAVE'] } : { ok: false, error: 'no_such_subteam' },
    );
    failing.stub.override('usergroups.users.list', () => ({ ok: false, error: 'plan_upgrade_required' }));
  });
  afterAll(async () => {
    await Promise.all([h?.close(), failing?.close()]);
  });

  it('a member of the group decides; the group is asked once and then cached', async () => {
    const first = await seed(h);
    const second = await seed(h);
    await h.click('approval_approve', first.id, { userId: CAROL, blockId: `approval:${first.id}` });
    expect(await settled(h, first.id)).toMatchObject({ state: 'approved', decidedBy: `slack:${CAROL}` });
    await h.click('approval_approve', second.id, { userId: CAROL, blockId: `approval:${second.id}` });
    expect(await settled(h, second.id)).toMatchObject({ state: 'approved', decidedBy: `slack:${CAROL}` });
    const asked = h.stub.api('usergroups.users.list');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ usergroup: 'S0OPS' });
  });

  it('a listed user needs no group lookup; a non-member is refused naming the group, and nothing changes', async () => {
    const byBob = await seed(h);
    const before = h.stub.api('usergroups.users.list').length;
    await h.click('approval_approve', byBob.id, { userId: BOB, blockId: `approval:${byBob.id}` });
    expect(await settled(h, byBob.id)).toMatchObject({ state: 'approved' });
    expect(h.stub.api('usergroups.users.list')).toHaveLength(before);

    const approval = await seed(h);
    const clicked = await h.click('approval_approve', approval.id, { userId: MALLORY });
    expect(clicked.status).toBe(200);
    const text = await respondedText(h, clicked.id);
    expect(text).toContain('only approvers may (SLACK_APPROVERS); ask an approver: <!subteam^S0OPS>');
    expect(text).toContain('S0OPS');
    expect((await h.store.approvals.findById(approval.id))!.state).toBe('pending');
    // The core refuses on its own too (the CLI or any other edge cannot go around the bot's check).
    const direct = await h.services.approvals.approve(approval.id, `slack:${MALLORY}`).catch((e: unknown) => e);
    expect(isCoreError(direct) && direct.code).toBe('forbidden');
  });

  it('a group Slack cannot resolve refuses its members with the reason (fail closed), in the bot and the core', async () => {
    const approval = await seed(failing);
    const clicked = await failing.click('approval_approve', approval.id, { userId: CAROL });
    const text = await respondedText(failing, clicked.id);
    expect(text).toContain('S0PAID');
    expect(text).toContain('plan_upgrade_required');
    expect(text).toContain('Nothing changed');
    const direct = await failing.services.approvals.approve(approval.id, `slack:${CAROL}`).catch((e: unknown) => e);
    expect(isCoreError(direct) && direct.retryable).toBe(true);
    expect(String((direct as Error).message)).toContain('could not be resolved');
    expect((await failing.store.approvals.findById(approval.id))!.state).toBe('pending');
    const audit = await failing.store.audit.list({});
    expect(audit.some((e) => e.result === 'error' && JSON.stringify(e.detail).includes('plan_upgrade_required'))).toBe(
      true,
    );
  });
});

describe('the user group cache', () => {
  const setup = (answers: (string[] | Error)[]) => {
    let t = 0;
    const calls: string[] = [];
    const call: SlackApiCall = async (_m, args) => {
      calls.push(args['usergroup']!);
      const a = answers.shift() ?? new Error('no answer scripted');
      if (a instanceof Error) throw a;
      return { ok: true, users: a };
    };
    const groups = createSlackUserGroups({
      call,
      log: silentLogger,
      now: () => t,
      refreshMs: 300_000,
      missRefreshMs: 5_000,
    });
    return { groups, calls, at: (ms: number) => (t = ms) };
  };

  it('answers members from the cache until the refresh interval, then asks again', async () => {
    const s = setup([['U1'], ['U2']]);
    expect(await s.groups.isMember('S1', 'U1')).toBe(true);
    s.at(299_999);
    expect(await s.groups.isMember('S1', 'U1')).toBe(true);
    expect(s.calls).toHaveLength(1);
    s.at(300_000);
    expect(await s.groups.isMember('S1', 'U1')).toBe(false);
    expect(s.calls).toHaveLength(2);
  });

  it('asks again on a miss once the entry is a few seconds old (someone just added), not on every stranger click', async () => {
    const s = setup([['U1'], ['U1', 'U9']]);
    expect(await s.groups.isMember('S1', 'U9')).toBe(false);
    s.at(4_999);
    expect(await s.groups.isMember('S1', 'U9')).toBe(false);
    expect(s.calls).toHaveLength(1);
    s.at(5_000);
    expect(await s.groups.isMember('S1', 'U9')).toBe(true);
    expect(s.calls).toHaveLength(2);
  });

  it('a failed refresh refuses even a member it had cached (no stale admit), then recovers', async () => {
    const s = setup([['U1'], new Error('ratelimited'), ['U1']]);
    expect(await s.groups.isMember('S1', 'U1')).toBe(true);
    s.at(400_000);
    const err = await s.groups.isMember('S1', 'U1').catch((e: unknown) => e);
    expect(isCoreError(err) && err.code === 'forbidden' && err.retryable).toBe(true);
    expect((err as Error).message).toContain('S1');
    expect(await s.groups.isMember('S1', 'U1')).toBe(true);
  });

  it('concurrent checks share one lookup', async () => {
    const s = setup([['U1', 'U2']]);
    const both = await Promise.all([s.groups.isMember('S1', 'U1'), s.groups.isMember('S1', 'U2')]);
    expect(both).toEqual([true, true]);
    expect(s.calls).toHaveLength(1);
  });
});
