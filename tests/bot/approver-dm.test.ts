import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { approverDmRecipients, createNotifier } from '../../bot/notifier.ts';
import type { Approval } from '../../core/domain/approval.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { type BotHarness, messageText, startBotHarness } from './bot-harness.ts';

/**
 * SLACK_APPROVER_DM: the notifier posts each approval request to the channel and, with its buttons, to each
 * approver's DM (a user group's members included), recording every copy; a decision clicked in any copy
 * (a DM, the channel) updates all the others with chat.update to show who decided, and when.
 */
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const DAVE = 'U0DAVE';
const NOTIFY = 'C0NOTIFY';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ env: { SLACK_APPROVERS: `${BOB},${CAROL},S0OPS`, SLACK_APPROVER_DM: 'true' } });
  h.stub.override('usergroups.users.list', () => ({ ok: true, users: [DAVE, CAROL] }));
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.reset();
  h.stub.override('usergroups.users.list', () => ({ ok: true, users: [DAVE, CAROL] }));
});

let n = 0;
async function seed(): Promise<Approval> {
  const name = `dm${++n}.example.com`;
  const profile = makeProfile({ name: `p-${name}` });
  await h.store.profiles.insert(profile);
  const cert = makeCertificate(profile.id, { name, commonName: name, state: 'issued', serial: '0a' });
  await h.store.certificates.insert(cert);
  return h.services.approvals.request('deploy', cert, { names: [name] }, 'scheduler');
}

async function post(): Promise<Map<string, string>> {
  const groups = (await import('../../bot/slack-user-groups.ts')).approverGroupsOf(
    { SLACK_APPROVERS: [BOB, CAROL, 'S0OPS'], SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_API_URL: `${h.stub.url}/api/` },
    silentLogger,
  );
  const notifier = createNotifier({
    outbox: createOutboxService({ store: h.store, clock: systemClock, log: silentLogger }),
    client: h.bot.app.client,
    channel: NOTIFY,
    clock: systemClock,
    log: silentLogger,
    spacingMs: 0,
    approverDm: approverDmRecipients([BOB, CAROL, 'S0OPS'], groups, silentLogger),
  });
  await notifier.runOnce();
  // Where each copy went: channel → ts.
  const posted = new Map<string, string>();
  const calls = h.stub.calls.filter((c) => c.path === '/api/chat.postMessage');
  for (const [i, c] of calls.entries()) {
    const f = new URLSearchParams(c.body);
    posted.set(f.get('channel')!, String(i));
  }
  return posted;
}

const updatesTo = (channel: string) => h.stub.api('chat.update').filter((u) => u['channel'] === channel);

async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('posts the approval to the channel and to each approver’s DM (group members included), once each, recording every copy', async () => {
  const approval = await seed();
  await post();
  const posts = h.stub.api('chat.postMessage');
  expect(posts.map((p) => p['channel']).sort()).toEqual([NOTIFY, `D${BOB}`, `D${CAROL}`, `D${DAVE}`].sort());
  for (const p of posts) expect(messageText(p)).toContain('approval_approve');
  const copies = await h.services.approvals.messages(approval.id);
  expect(copies.map((c) => c.channel).sort()).toEqual([NOTIFY, `D${BOB}`, `D${CAROL}`, `D${DAVE}`].sort());
  // A second run (nothing pending) posts nothing again.
  await post();
  expect(h.stub.api('chat.postMessage')).toHaveLength(4);
});

it('approved in one DM: the channel and every other DM copy show the decision', async () => {
  const approval = await seed();
  await post();
  const copies = await h.services.approvals.messages(approval.id);
  const bobs = copies.find((c) => c.channel === `D${BOB}`)!;
  const clicked = await h.click('approval_approve', approval.id, {
    userId: BOB,
    channelId: bobs.channel,
    messageTs: bobs.ts,
    blockId: `approval:${approval.id}`,
  });
  expect(clicked.status).toBe(200);
  for (const channel of [NOTIFY, `D${CAROL}`, `D${DAVE}`]) {
    const update = await until(`the update of ${channel}`, () => updatesTo(channel)[0]);
    const copy = copies.find((c) => c.channel === channel)!;
    expect(update['ts']).toBe(copy.ts);
    expect(messageText(update)).toContain(`Approved by <@${BOB}>`);
    expect(messageText(update)).not.toContain('approval_approve');
  }
  // The clicked copy is edited by its own response, not by the sync.
  expect(updatesTo(`D${BOB}`)).toEqual([]);
  expect((await h.store.approvals.findById(approval.id))!.state).toBe('approved');
});

it('denied in the channel: every DM copy shows who denied and why', async () => {
  const approval = await seed();
  await post();
  const copies = await h.services.approvals.messages(approval.id);
  const inChannel = copies.find((c) => c.channel === NOTIFY)!;
  const before = h.stub.api('views.open').length;
  await h.click('approval_deny', approval.id, {
    userId: CAROL,
    channelId: NOTIFY,
    messageTs: inChannel.ts,
    blockId: `approval:${approval.id}`,
  });
  const [open] = (await h.stub.waitForApi('views.open', before + 1)).slice(before);
  const meta = (open!['view'] as Record<string, unknown>)['private_metadata'] as string;
  const res = await h.submitView(
    'approval_deny_reason',
    { approval_reason: { reason: 'change freeze' } },
    { userId: CAROL, privateMetadata: meta },
  );
  expect(res.status).toBe(200);
  for (const channel of [`D${BOB}`, `D${CAROL}`, `D${DAVE}`]) {
    const update = await until(`the update of ${channel}`, () => updatesTo(channel)[0]);
    expect(messageText(update)).toContain(`Denied by <@${CAROL}>`);
    expect(messageText(update)).toContain('change freeze');
  }
  // The channel copy is edited once, by the deny handler itself.
  await until('the channel copy edited', () => updatesTo(NOTIFY)[0]);
  expect(updatesTo(NOTIFY)).toHaveLength(1);
});

it('an approver whose DM cannot be opened does not stop the channel post or the other DMs', async () => {
  const approval = await seed();
  h.stub.override('conversations.open', (f) =>
    f['users'] === CAROL ? { ok: false, error: 'user_disabled' } : undefined,
  );
  await post();
  const copies = await h.services.approvals.messages(approval.id);
  expect(copies.map((c) => c.channel).sort()).toEqual([NOTIFY, `D${BOB}`, `D${DAVE}`].sort());
  expect((await h.store.events.listUndelivered(10)).filter((e) => e.kind === 'approval_requested')).toEqual([]);
});
