import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/domain/approval.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import { approvalMessage, pendingApprovalsMessage } from '../../bot/blocks/approval.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { type BotHarness, messageText, SIGNING_SECRET, sign, startBotHarness, TEAM_ID } from './bot-harness.ts';

/**
 * The approval buttons and the deny modal over the real Bolt receiver: signed `block_actions` and
 * `view_submission` payloads, the Web API and response_url stubbed, the core on PGlite.
 */
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const MALLORY = 'U0MALLORY';
const CHANNEL = 'C0APPROVALS';
const MESSAGE_TS = '1700000000.000100';

let h: BotHarness;
let nobody: BotHarness;

beforeAll(async () => {
  [h, nobody] = await Promise.all([
    startBotHarness({ env: { SLACK_APPROVERS: `${BOB},${CAROL}` } }),
    // SLACK_APPROVERS unset: nobody may decide. Also guarded to this workspace, to see clicks go through the team check.
    startBotHarness({ allowedTeamIds: [TEAM_ID] }),
  ]);
});
afterAll(async () => {
  await Promise.all([h?.close(), nobody?.close()]);
});
beforeEach(async () => {
  await Promise.all([h.reset(), nobody.reset()]);
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextResponse = 1000;

async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(10);
  }
}

/** Web API calls the bot made, form fields decoded (WebClient JSON-encodes nested fields like `view`, `blocks`). */
function apiCalls(harness: BotHarness, method: string): Record<string, string>[] {
  return harness.stub.calls
    .filter((c) => c.path === `/api/${method}`)
    .map((c) => Object.fromEntries(new URLSearchParams(c.body)));
}

async function seed(
  harness: BotHarness,
  requestedBy = 'scheduler',
  name = 'www.example.com',
): Promise<{ cert: ManagedCertificate; approval: Approval }> {
  const profile = makeProfile({ name: `prod-${name}` });
  await harness.store.profiles.insert(profile);
  const cert = makeCertificate(profile.id, {
    name,
    commonName: name,
    state: 'issued',
    serial: '0a1b2c',
    notAfter: new Date('2027-01-01T00:00:00Z'),
  });
  await harness.store.certificates.insert(cert);
  const approval = await harness.services.approvals.request(
    'renewal',
    cert,
    {
      names: [name, `<!channel>.${name}`],
      serial: '0a1b2c',
      notAfter: '2027-01-01T00:00:00.000Z',
      profile: profile.name,
      secret: 'do-not-show',
    },
    requestedBy,
  );
  return { cert, approval };
}

interface Click {
  user: string;
  action: 'approval_approve' | 'approval_deny';
  value: string;
  blockId?: string;
  teamId?: string;
  ephemeral?: boolean;
}

function blockActions(harness: BotHarness, c: Click, responseId: string): Record<string, unknown> {
  const team = c.teamId ?? TEAM_ID;
  return {
    type: 'block_actions',
    team: { id: team, domain: 'test' },
    user: { id: c.user, username: c.user.toLowerCase(), name: c.user.toLowerCase(), team_id: team },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: MESSAGE_TS, channel_id: CHANNEL, is_ephemeral: c.ephemeral ?? false },
    trigger_id: `trigger-${responseId}`,
    channel: { id: CHANNEL, name: 'approvals' },
    ...(c.ephemeral ? {} : { message: { type: 'message', ts: MESSAGE_TS, text: 'Approval needed', blocks: [] } }),
    response_url: `${harness.stub.url}/response/${responseId}`,
    actions: [
      {
        type: 'button',
        action_id: c.action,
        block_id: c.blockId ?? `approval:${c.value}`,
        value: c.value,
        text: { type: 'plain_text', text: 'x' },
        action_ts: '1700000001.000200',
      },
    ],
  };
}

async function click(c: Click, harness: BotHarness = h): Promise<{ status: number; body: string; id: string }> {
  const id = String(++nextResponse);
  const res = await harness.interact(blockActions(harness, c, id));
  return { ...res, id };
}

function submission(user: string, privateMetadata: string, reason: string | null): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: TEAM_ID, domain: 'test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: 'trigger-submit',
    view: {
      id: 'V0DENY',
      team_id: TEAM_ID,
      type: 'modal',
      callback_id: 'approval_deny_reason',
      private_metadata: privateMetadata,
      hash: '1700000002.abc',
      title: { type: 'plain_text', text: 'Deny approval' },
      blocks: [],
      state: { values: { approval_reason: { reason: { type: 'plain_text_input', value: reason } } } },
      app_id: 'A0TEST',
      bot_id: 'B0BOT',
    },
  };
}

async function stateOf(harness: BotHarness, id: string): Promise<Approval> {
  return (await harness.store.approvals.findById(id))!;
}

function view(overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id: '11111111-2222-4333-8444-555555555555',
    kind: 'deploy',
    certificateId: 'c',
    certificateName: 'www.example.com',
    state: 'pending',
    summary: {
      names: ['www.example.com'],
      serial: '0a',
      profiles: ['/Common/clientssl', '/Common/<x>'],
      devices: 2,
      nested: { password: 'hunter2' },
    },
    requestedBy: 'scheduler',
    requestedAt: new Date('2026-11-26T10:00:00Z'),
    decidedBy: null,
    decidedAt: null,
    reason: null,
    ...overrides,
  };
}

describe('approval blocks (pure)', () => {
  it('renders named summary fields only, escaped, with the two buttons', () => {
    const m = approvalMessage(view());
    const json = JSON.stringify(m);
    expect(json).toContain('*Devices:*\\n2');
    expect(json).toContain('*BIG-IP profiles:* 2');
    expect(json).toContain('/Common/&lt;x&gt;');
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('[object Object]');
    expect(json).toContain('approval_approve');
  });

  it('decided variants have no buttons and say who decided, when and why', () => {
    const at = new Date('2026-11-26T11:30:00Z');
    const approved = JSON.stringify(
      approvalMessage(view({ state: 'approved', decidedBy: 'slack:U0BOB', decidedAt: at })),
    );
    expect(approved).toContain('Approved by <@U0BOB> at 2026-11-26 11:30 UTC');
    expect(approved).not.toContain('"actions"');
    const denied = JSON.stringify(
      approvalMessage(view({ state: 'denied', decidedBy: 'cli:<eve>', decidedAt: at, reason: 'freeze & <!here>' })),
    );
    expect(denied).toContain('Denied by cli:&lt;eve&gt; at 2026-11-26 11:30 UTC: freeze &amp; &lt;!here&gt;');
  });

  it('keeps a long pending list within 50 blocks and says how many were left out', () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      view({ id: `11111111-2222-4333-8444-${String(i).padStart(12, '0')}` }),
    );
    const m = pendingApprovalsMessage(rows);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(m.blocks.at(-1))).toContain('and 16 more');
    const ids = m.blocks.map((b) => (b as { block_id?: string }).block_id).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('approval message builder, through /acme approvals', () => {
  it('gives each pending approval Approve and Deny buttons whose value is only the approval id, from named summary fields', async () => {
    const { approval } = await seed(h);
    const res = await h.command('approvals');
    const message = await h.response(res.id);
    const shown = messageText(message);
    expect(shown).toContain('*renewal* of *www.example.com*');
    expect(shown).toContain('&lt;!channel&gt;.www.example.com');
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('0a1b2c');
    expect(shown).not.toContain('do-not-show');
    const blocks = message['blocks'] as { type: string; elements?: { action_id: string; value: string }[] }[];
    const buttons = blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(buttons.map((b) => b.action_id)).toEqual(['approval_approve', 'approval_deny']);
    expect(buttons.map((b) => b.value)).toEqual([approval.id, approval.id]);
  });
});

describe('Approve button', () => {
  it('approves for a listed approver: state, replaced message, audit entry', async () => {
    const { cert, approval } = await seed(h);
    const res = await click({ user: BOB, action: 'approval_approve', value: approval.id });
    expect(res.status).toBe(200);
    const posted = await h.response(res.id);
    expect(posted['replace_original']).toBe(true);
    expect(messageText(posted)).toContain(`Approved by <@${BOB}>`);
    expect(messageText(posted)).not.toContain('approval_approve');
    const stored = await stateOf(h, approval.id);
    expect(stored.state).toBe('approved');
    expect(stored.decidedBy).toBe(`slack:${BOB}`);
    const audit = await h.store.audit.list({ objectId: cert.id });
    expect(audit.find((a) => a.action === 'approval.approve')).toMatchObject({ actor: `slack:${BOB}`, result: 'ok' });
  });

  it('a second (or replayed) click answers "already approved" ephemerally and changes nothing', async () => {
    const { approval } = await seed(h);
    await h.response((await click({ user: BOB, action: 'approval_approve', value: approval.id })).id);
    const before = await stateOf(h, approval.id);
    const again = await click({ user: CAROL, action: 'approval_approve', value: approval.id });
    const posted = await h.response(again.id);
    expect(posted['response_type']).toBe('ephemeral');
    expect(posted['replace_original']).toBe(false);
    // Who decided and when, as Slack shows it: a mention and a date in the reader's time zone.
    expect(String(posted['text'])).toMatch(
      new RegExp(
        `^Already approved by <@${BOB}> at <!date\\^\\d+\\^\\{date_short_pretty\\} \\{time\\}\\|[^>]+ UTC>; nothing changed\\.$`,
      ),
    );
    expect(messageText(posted)).not.toContain('slack:');
    expect(await stateOf(h, approval.id)).toEqual(before);
  });

  it('refuses a user who is not in SLACK_APPROVERS without calling the core', async () => {
    const { approval } = await seed(h);
    const res = await click({ user: MALLORY, action: 'approval_approve', value: approval.id });
    const posted = await h.response(res.id);
    expect(posted['response_type']).toBe('ephemeral');
    expect(messageText(posted)).toContain('not allowed');
    expect(h.coreCalls.calls).toEqual([]);
    expect((await stateOf(h, approval.id)).state).toBe('pending');
  });

  it('refuses everyone when SLACK_APPROVERS is empty', async () => {
    const { approval } = await seed(nobody);
    for (const user of [BOB, CAROL]) {
      const res = await click({ user, action: 'approval_approve', value: approval.id }, nobody);
      expect(messageText(await nobody.response(res.id))).toContain('not allowed');
      const deny = await click({ user, action: 'approval_deny', value: approval.id }, nobody);
      expect(messageText(await nobody.response(deny.id))).toContain('not allowed');
    }
    expect(nobody.coreCalls.calls).toEqual([]);
    expect(apiCalls(nobody, 'views.open')).toEqual([]);
    expect((await stateOf(nobody, approval.id)).state).toBe('pending');
  });

  it('refuses a click from another workspace at the team check, visibly, without deciding anything', async () => {
    const { approval } = await seed(nobody);
    const res = await click({ user: BOB, action: 'approval_approve', value: approval.id, teamId: 'T0OTHER' }, nobody);
    expect(res.status).toBe(200);
    const answer = await nobody.response(res.id);
    expect(answer).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(answer['text'])).toContain('not enabled for this workspace');
    expect(nobody.coreCalls.calls).toEqual([]);
    expect((await stateOf(nobody, approval.id)).state).toBe('pending');
  });

  it('a forged button value goes through the same checks: the server-side approval decides', async () => {
    const mine = await seed(h, `slack:${BOB}`, 'bob.example.com');
    const other = await seed(h, 'scheduler', 'other.example.com');
    // Bob clicks a button on `other`'s message, its value swapped for his own request: self-approval is refused.
    const forged = await click({
      user: BOB,
      action: 'approval_approve',
      value: mine.approval.id,
      blockId: `approval:${other.approval.id}`,
    });
    const posted = await h.response(forged.id);
    expect(posted['response_type']).toBe('ephemeral');
    expect(messageText(posted)).toContain('cannot decide their own request');
    expect((await stateOf(h, mine.approval.id)).state).toBe('pending');
    expect((await stateOf(h, other.approval.id)).state).toBe('pending');
    // A value that is no approval id at all is answered before the core; a well-formed id that names nothing, by the core.
    const calls = h.coreCalls.calls.length;
    const junk = await click({ user: BOB, action: 'approval_approve', value: "x' OR 1=1 --" });
    expect(messageText(await h.response(junk.id))).toContain('does not name an approval');
    expect(h.coreCalls.calls.length).toBe(calls);
    const ghost = '00000000-0000-4000-8000-000000000000';
    const missing = await click({ user: BOB, action: 'approval_approve', value: ghost });
    expect(messageText(await h.response(missing.id))).toContain(`no approval ${ghost}`);
    // Another approver may decide Bob's request.
    const carol = await click({ user: CAROL, action: 'approval_approve', value: mine.approval.id });
    expect(messageText(await h.response(carol.id))).toContain(`Approved by <@${CAROL}>`);
  });

  it("the certificate's requester, though an approver, cannot approve its scheduled renewal; another approver can", async () => {
    const profile = makeProfile({ name: 'prod-carols' });
    await h.store.profiles.insert(profile);
    const cert = makeCertificate(profile.id, {
      name: 'carol.example.com',
      commonName: 'carol.example.com',
      state: 'issued',
      serial: '0c',
      requestedBy: `slack:${CAROL}`,
    });
    await h.store.certificates.insert(cert);
    const approval = await h.services.approvals.requestForScheduler('renewal', cert, {
      names: [cert.name],
      serial: '0c',
    });
    expect(approval.requestedBy).toBe(`slack:${CAROL}`);
    const own = await click({ user: CAROL, action: 'approval_approve', value: approval.id });
    const refused = await h.response(own.id);
    expect(refused['response_type']).toBe('ephemeral');
    expect(String(refused['text'])).toContain(
      `slack:${CAROL} requested certificate "carol.example.com" and cannot decide its renewal`,
    );
    expect(await stateOf(h, approval.id)).toMatchObject({ state: 'pending', decidedBy: null });
    const bob = await click({ user: BOB, action: 'approval_approve', value: approval.id });
    expect(messageText(await h.response(bob.id))).toContain(`Approved by <@${BOB}>`);
    expect((await stateOf(h, approval.id)).decidedBy).toBe(`slack:${BOB}`);
  });

  it('from the /acme approvals list, replaces the list: decided item on top, the rest still pending with buttons', async () => {
    const a = await seed(h, 'scheduler', 'a.example.com');
    const b = await seed(h, 'scheduler', 'b.example.com');
    const res = await click({
      user: BOB,
      action: 'approval_approve',
      value: a.approval.id,
      blockId: `approval_list:${a.approval.id}`,
      ephemeral: true,
    });
    const posted = await h.response(res.id);
    expect(posted['replace_original']).toBe(true);
    const shown = messageText(posted);
    expect(shown).toContain(`Approved by <@${BOB}>`);
    expect(shown).toContain('*b.example.com*');
    const blocks = posted['blocks'] as { type: string; elements?: { value: string }[] }[];
    expect(
      blocks
        .filter((x) => x.type === 'actions')
        .flatMap((x) => x.elements ?? [])
        .map((e) => e.value),
    ).toEqual([b.approval.id, b.approval.id]);
  });
});

describe('Deny button and reason modal', () => {
  async function openDeny(
    approvalId: string,
    opts: { ephemeral?: boolean; blockId?: string } = {},
  ): Promise<{ trigger: string; view: Record<string, unknown> }> {
    await click({ user: BOB, action: 'approval_deny', value: approvalId, ...opts });
    const [open] = await until('views.open', () => apiCalls(h, 'views.open')[0] && apiCalls(h, 'views.open'));
    return { trigger: open!['trigger_id']!, view: JSON.parse(open!['view']!) as Record<string, unknown> };
  }

  it('opens a modal with a required reason; the metadata names the approval and the message', async () => {
    const { approval } = await seed(h);
    const { trigger, view } = await openDeny(approval.id);
    expect(trigger).toMatch(/^trigger-/);
    expect(view['callback_id']).toBe('approval_deny_reason');
    expect(JSON.parse(view['private_metadata'] as string)).toEqual({
      id: approval.id,
      source: 'message',
      channel: CHANNEL,
      ts: MESSAGE_TS,
    });
    expect(JSON.stringify(view['blocks'])).toContain('"type":"input"');
    expect(JSON.stringify(view['blocks'])).not.toContain('"optional":true');
    expect((await stateOf(h, approval.id)).state).toBe('pending');
  });

  it('an empty reason is a field error; nothing is decided', async () => {
    const { approval } = await seed(h);
    const { view } = await openDeny(approval.id);
    for (const reason of ['', '   ', null]) {
      const res = await h.interact(submission(BOB, view['private_metadata'] as string, reason));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        response_action: 'errors',
        errors: { approval_reason: 'Give a reason for the denial.' },
      });
    }
    expect((await stateOf(h, approval.id)).state).toBe('pending');
  });

  it('a reason denies it, updates the original message with chat.update and is audited', async () => {
    const { cert, approval } = await seed(h);
    const { view } = await openDeny(approval.id);
    const res = await h.interact(submission(CAROL, view['private_metadata'] as string, 'change freeze <!here>'));
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    const stored = await stateOf(h, approval.id);
    expect(stored).toMatchObject({ state: 'denied', decidedBy: `slack:${CAROL}`, reason: 'change freeze <!here>' });
    const [update] = await until('chat.update', () => apiCalls(h, 'chat.update')[0] && apiCalls(h, 'chat.update'));
    expect(update).toMatchObject({ channel: CHANNEL, ts: MESSAGE_TS });
    expect(update!['blocks']).toContain(`Denied by <@${CAROL}>`);
    expect(update!['blocks']).toContain('change freeze &lt;!here&gt;');
    expect(update!['blocks']).not.toContain('approval_deny');
    const audit = await h.store.audit.list({ objectId: cert.id });
    expect(audit.find((a) => a.action === 'approval.deny')).toMatchObject({ actor: `slack:${CAROL}` });
  });

  it('for an ephemeral /acme approvals list, updates through the response_url', async () => {
    const { approval } = await seed(h);
    const { view } = await openDeny(approval.id, { ephemeral: true, blockId: `approval_list:${approval.id}` });
    const meta = JSON.parse(view['private_metadata'] as string) as { responseUrl: string };
    expect(meta.responseUrl).toMatch(/\/response\/\d+$/);
    await h.interact(submission(BOB, view['private_metadata'] as string, 'not now'));
    const id = meta.responseUrl.split('/').pop()!;
    const posted = await until('response', () => h.stub.responses(id).find((r) => r['replace_original'] === true));
    expect(messageText(posted)).toContain(`Denied by <@${BOB}>`);
    expect(messageText(posted)).toContain('Nothing is waiting for a decision.');
    expect(apiCalls(h, 'chat.update')).toEqual([]);
  });

  it('re-checks the approver and the core on submit', async () => {
    const { approval } = await seed(h);
    const metadata = JSON.stringify({ id: approval.id, source: 'message', channel: CHANNEL, ts: MESSAGE_TS });
    const mallory = await h.interact(submission(MALLORY, metadata, 'because'));
    expect(JSON.parse(mallory.body)['errors']['approval_reason']).toContain('not allowed');
    expect((await stateOf(h, approval.id)).state).toBe('pending');
    await h.response((await click({ user: BOB, action: 'approval_approve', value: approval.id })).id);
    const late = await h.interact(submission(CAROL, metadata, 'too late'));
    expect(JSON.parse(late.body)['errors']['approval_reason']).toContain(`Already approved by @${BOB} at `);
    expect((await stateOf(h, approval.id)).state).toBe('approved');
    const garbage = await h.interact(submission(CAROL, 'not json', 'x'));
    expect(JSON.parse(garbage.body)['response_action']).toBe('errors');
  });
});

describe('signature', () => {
  it('rejects a block_actions payload with a bad signature (401) and never reaches the core', async () => {
    const { approval } = await seed(h);
    const ts = Math.floor(Date.now() / 1000);
    const res = await h.interact(blockActions(h, { user: BOB, action: 'approval_approve', value: approval.id }, '1'), {
      signature: sign(`${SIGNING_SECRET}-wrong`, ts, 'x'),
    });
    expect(res.status).toBe(401);
    const stale = await h.interact(submission(BOB, JSON.stringify({ id: approval.id, source: 'message' }), 'r'), {
      timestamp: ts - 301,
    });
    expect(stale.status).toBe(401);
    await wait(200);
    expect(h.coreCalls.calls).toEqual([]);
    expect((await stateOf(h, approval.id)).state).toBe('pending');
  });
});
