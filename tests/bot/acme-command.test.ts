import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeAuthorization, makeDevice, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';
import { type BotHarness, messageText, SIGNING_SECRET, sign, startBotHarness, TEAM_ID } from './bot-harness.ts';

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.reset();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(text: string): Promise<{ message: Record<string, unknown>; shown: string }> {
  const res = await h.command(text);
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(3000);
  const message = await h.response(res.id);
  return { message, shown: messageText(message) };
}

/** A profile with a domain, an issued certificate (sealed key, real chain) and a device, all stored as the core stores them. */
async function seed() {
  const profile = makeProfile({ name: 'prod-le', eabKid: 'kid-1', eabHmacKeySealed: 'v1.k1.sealed-eab-hmac' });
  await h.store.profiles.insert(profile);
  const domain = makeDomain(profile.id, { name: 'www.example.com', status: 'valid' });
  await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
  const pending = makeDomain(profile.id, { name: 'api.example.com', status: 'pending' });
  await h.store.domains.insertWithAuthorization(pending, makeAuthorization(pending.id));
  const cert = await seedIssuedCertificate(h.store, h.secrets, { names: ['www.example.com'], profileId: profile.id });
  await h.store.devices.insert(
    makeDevice({ name: 'bigip-1', passwordSealed: h.secrets.seal('device-password-S3cret', 'devices:x:password') }),
  );
  return { profile, cert };
}

describe('/acme over the real Bolt receiver', () => {
  it('acknowledges a validly signed command at once and posts the usage for help, ephemeral', async () => {
    const { message } = await run('help');
    expect(message['response_type']).toBe('ephemeral');
    expect(messageText(message)).toContain('/acme cert list [--profile P]');
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('answers an empty command with the usage', async () => {
    const { shown } = await run('');
    expect(shown).toContain('/acme status');
  });

  it('rejects a bad signature with 401 and never reaches the core', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const res = await h.command('status', { signature: sign('not-the-secret-at-all', ts, 'whatever') });
    expect(res.status).toBe(401);
    await wait(200);
    expect(h.coreCalls.calls).toEqual([]);
    expect(h.stub.responses(res.id)).toEqual([]);
  });

  it('rejects a request signed with the right secret but a timestamp older than 5 minutes', async () => {
    const res = await h.command('status', { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(res.status).toBe(401);
    await wait(200);
    expect(h.coreCalls.calls).toEqual([]);
    expect(h.stub.responses(res.id)).toEqual([]);
  });

  it('status counts profiles, domains by status, certificates by state, devices and pending approvals', async () => {
    const { cert } = await seed();
    await h.services.approvals.request('renewal', cert, { serial: cert.serial }, 'scheduler');
    const { shown } = await run('status');
    expect(shown).toContain('*CA profiles:* 1');
    expect(shown).toContain('*Domains:* 2 (pending 1, valid 1)');
    expect(shown).toContain('*Certificates:* 1 (issued 1)');
    expect(shown).toContain('*Devices:* 1');
    expect(shown).toContain('*Pending approvals:* 1');
    // The core's status report, as `bigip-acme status` shows it: nothing failing, one approval waiting.
    expect(shown).toContain('OK: 0 failing, 0 need attention, 1 waiting');
    expect(shown).toContain('*Waiting: approvals (1)*');
    expect(shown).toContain(`renewal of ${cert.name}, requested by scheduler since`);
  });

  it('status puts a failing renewal first, with its reason from the outbox and its next attempt', async () => {
    const { cert } = await seed();
    const next = new Date(Date.now() + 3_600_000);
    await h.store.certificates.update(cert.id, {
      state: 'ordering',
      renewalStartedAt: new Date(),
      failedAttempts: 2,
      nextAttemptAt: next,
    });
    await h.store.events.emit({
      kind: 'renewal_failed',
      certificateId: cert.id,
      subject: cert.name,
      dedupeKey: `${cert.id}:renewal_failed:x`,
      detail: { code: 'acme_unreachable', message: 'the CA is unreachable', attempt: 1 },
      needsPerson: false,
    });
    const { shown } = await run('status');
    expect(shown).toContain('FAILING: 1 failing');
    expect(shown).toContain('*Failing: certificates (1)*');
    expect(shown).toContain(
      `${cert.name} [prod-le]: renewal failing (2 failed attempts): the CA is unreachable (attempt 1,`,
    );
    expect(shown).toContain(`next attempt ${next.toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  });

  it('lists profiles, domains, certificates, devices and approvals', async () => {
    const { cert } = await seed();
    await h.services.approvals.request('deploy', cert, { devices: ['bigip-1'] }, 'scheduler');
    expect((await run('profile list')).shown).toContain('*prod-le*');
    const domains = (await run('domain list --profile prod-le')).shown;
    expect(domains).toContain('*www.example.com*  valid');
    expect(domains).toContain('*api.example.com*  pending');
    const certs = (await run('cert list')).shown;
    expect(certs).toContain('issued · CN www.example.com');
    expect(certs).toContain('expires 20');
    expect((await run('device list')).shown).toContain('*bigip-1*');
    const approvals = (await run('approvals')).shown;
    expect(approvals).toContain('*deploy* of *www.example.com*');
  });

  it('answers an unknown or malformed subcommand with the usage, ephemeral, escaping the echo', async () => {
    const unknown = await run('frobnicate <!channel>');
    expect(unknown.message['response_type']).toBe('ephemeral');
    expect(unknown.shown).toContain('unknown subcommand: frobnicate');
    expect(unknown.shown).toContain('/acme device list');
    const malformed = await run('cert list --profile');
    expect(malformed.shown).toContain('--profile needs a profile name');
    const odd = await run('domain list --bogus <@U123>');
    expect(odd.shown).toContain('unknown option for domain list: --bogus');
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('answers a core error ephemerally with its message and no stack', async () => {
    const { message, shown } = await run('domain list --profile no-such-profile');
    expect(message['response_type']).toBe('ephemeral');
    expect(shown).toMatch(/no-such-profile/);
    expect(shown).not.toMatch(/\bat .*\.ts:\d+/);
    expect(shown).not.toContain('CoreError');
  });

  it('escapes user-controlled names for mrkdwn', async () => {
    const profile = makeProfile({ name: '<script>alert(1)</script>&co' });
    await h.store.profiles.insert(profile);
    const domain = makeDomain(profile.id, { name: '<!here>.example.com' });
    await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    const profiles = (await run('profile list')).shown;
    expect(profiles).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&amp;co');
    expect(profiles).not.toContain('<script>');
    const domains = (await run('domain list')).shown;
    expect(domains).toContain('&lt;!here&gt;.example.com');
    expect(domains).not.toContain('<!here>');
  });

  it('never sends key material, passwords or sealed secrets to Slack', async () => {
    const { cert } = await seed();
    await h.services.approvals.request(
      'renewal',
      cert,
      { note: '-----BEGIN PRIVATE KEY-----', password: 'hunter2' },
      'scheduler',
    );
    for (const text of ['status', 'profile list', 'domain list', 'cert list', 'device list', 'approvals'])
      await run(text);
    const everything = h.stub.calls.map((c) => c.body).join('\n');
    expect(h.stub.calls.filter((c) => c.path.startsWith('/response/'))).toHaveLength(6);
    expect(everything).not.toMatch(/-----BEGIN/);
    expect(everything).not.toContain('PRIVATE KEY');
    expect(everything).not.toContain('device-password-S3cret');
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('sealed');
    expect(everything).not.toContain(cert.keySealed!);
  });

  it('keeps a long list within 50 blocks and says how many were left out', async () => {
    for (let i = 0; i < 60; i++)
      await h.store.devices.insert(makeDevice({ name: `bigip-${String(i).padStart(2, '0')}` }));
    const { message, shown } = await run('device list');
    expect((message['blocks'] as unknown[]).length).toBe(50);
    expect(shown).toContain('… and 12 more');
  });

  it('uses the signing secret the harness configured (sanity check of the signer)', () => {
    expect(sign(SIGNING_SECRET, 1, 'a')).toMatch(/^v0=[0-9a-f]{64}$/);
  });
});

describe('allowed workspaces', () => {
  let guarded: BotHarness;
  beforeAll(async () => {
    guarded = await startBotHarness({ allowedTeamIds: ['T0ALLOWED'] });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  it('acknowledges a command from another workspace without calling the core', async () => {
    const res = await guarded.command('status', { teamId: 'T0OTHER' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('not enabled for this workspace');
    await wait(200);
    expect(guarded.coreCalls.calls).toEqual([]);
    expect(guarded.stub.responses(res.id)).toEqual([]);
  });

  it('serves the allowed workspace', async () => {
    const res = await guarded.command('help', { teamId: 'T0ALLOWED' });
    expect(res.status).toBe(200);
    expect(messageText(await guarded.response(res.id))).toContain('/acme status');
  });
});

describe("the default workspace: the bot token's own (auth.test)", () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ env: { SLACK_ADMINS: 'U0ALICE' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves commands from the workspace auth.test named', async () => {
    const res = await h.command('help');
    expect(messageText(await h.response(res.id))).toContain('/acme status');
  });

  it('drops a correctly signed command sent for another workspace, even an admin-only one from an admin id', async () => {
    const res = await h.command('profile create', { teamId: 'T0OTHER' });
    expect(res.body).toContain('not enabled for this workspace');
    await wait(200);
    expect(h.coreCalls.calls).toEqual([]);
    expect(h.stub.api('views.open')).toEqual([]);
    expect(h.stub.responses(res.id)).toEqual([]);
  });

  it('refuses a click by a Slack Connect guest whose own workspace is another, in our workspace, visibly', async () => {
    const payload = {
      type: 'block_actions',
      team: { id: TEAM_ID, domain: 'test' },
      user: { id: 'U0GUEST', team_id: 'T0GUEST', name: 'guest' },
      api_app_id: 'A0TEST',
      trigger_id: 'trigger-guest',
      container: { type: 'message', channel_id: 'C0TEST', message_ts: '1.2', is_ephemeral: false },
      channel: { id: 'C0TEST', name: 'ops' },
      message: { type: 'message', ts: '1.2', text: '' },
      response_url: `${h.stub.url}/response/guest`,
      actions: [
        {
          type: 'button',
          action_id: 'approval_approve',
          block_id: 'b',
          value: '00000000-0000-4000-8000-000000000000',
          action_ts: '1',
        },
      ],
    };
    const res = await h.interact(payload);
    expect(res.status).toBe(200);
    let answer: Record<string, unknown> | undefined;
    for (let i = 0; i < 500 && !answer; i++) {
      answer = h.stub.responses('guest')[0];
      if (!answer) await wait(10);
    }
    expect(answer).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(answer!['text'])).toContain('not enabled for this workspace');
    expect(h.coreCalls.calls).toEqual([]);
  });
});
