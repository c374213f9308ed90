import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPROVE_ACTION, DENY_ACTION, DENY_VIEW, REASON_ACTION, REASON_BLOCK } from '../../bot/blocks/approval.ts';
import { HOME_NEXT_ACTION, HOME_PREV_ACTION, HOME_REFRESH_ACTION } from '../../bot/blocks/home.ts';
import {
  makeAuthorization,
  makeBinding,
  makeCertificate,
  makeDevice,
  makeDomain,
  makeProfile,
} from '../fixtures/builders.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/** The App Home dashboard over the real Bolt receiver: signed events and clicks, views.publish on the stub. */
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ env: { SLACK_APPROVERS: BOB } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.reset();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

type View = { type: string; private_metadata: string; blocks: unknown[] };

async function published(n = 1): Promise<{ user_id: string; view: View }> {
  const calls = await h.stub.waitForApi('views.publish', n);
  return calls[n - 1] as unknown as { user_id: string; view: View };
}

function opened(user: string, tab = 'home') {
  return h.event({ type: 'app_home_opened', user, channel: 'D0HOME', tab, event_ts: '1700000000.000001' });
}

/** One of everything, stored as the core stores it, secrets sealed. */
async function seed() {
  const profile = makeProfile({
    name: 'prod-le',
    eabKid: 'kid-1',
    eabHmacKeySealed: h.secrets.seal('eab-hmac-S3cret', 'profiles:x:eab'),
  });
  await h.store.profiles.insert(profile);
  const domain = makeDomain(profile.id, { name: 'www.example.com', status: 'valid' });
  await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
  const cert = await seedIssuedCertificate(h.store, h.secrets, { names: ['www.example.com'], profileId: profile.id });
  const device = makeDevice({
    name: 'bigip-1',
    passwordSealed: h.secrets.seal('device-password-S3cret', 'devices:x:password'),
  });
  await h.store.devices.insert(device);
  await h.store.bindings.insert(
    makeBinding(cert.id, device.id, {
      deployedFingerprint: cert.fingerprintSha256,
      deployedSerial: cert.serial,
      deployedAt: new Date(),
    }),
  );
  const approval = await h.services.approvals.request(
    'renewal',
    cert,
    { names: ['www.example.com'], secret: 'summary-S3cret' },
    'scheduler',
  );
  return { profile, cert, approval };
}

describe('App Home over the real Bolt receiver', () => {
  it('publishes the dashboard for the user who opened the Home tab', async () => {
    await seed();
    const res = await opened(ALICE);
    expect(res.status).toBe(200);
    const call = await published();
    expect(call.user_id).toBe(ALICE);
    expect(call.view.type).toBe('home');
    const text = JSON.stringify(call.view);
    expect(text).toContain('*prod-le*');
    expect(text).toContain('*www.example.com*  valid');
    expect(text).toMatch(/\*www\.example\.com\* {2}issued · (89|90) d left/);
    expect(text).toContain('on bigip-1 `/Common/acme_www` (current)');
    expect(text).toContain('*renewal* of *www.example.com*');
    // Alice is not an approver: no decision buttons.
    expect(text).not.toContain(APPROVE_ACTION);
    for (const secret of ['S3cret', 'sealed', 'PRIVATE KEY', 'kid-1']) expect(text).not.toContain(secret);
    expect(call.view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('gives an approver the approval buttons, and their click is decided by the existing approval listener', async () => {
    const { approval } = await seed();
    await opened(BOB);
    const text = JSON.stringify((await published()).view);
    expect(text).toContain(APPROVE_ACTION);
    expect(text).toContain(approval.id);

    const res = await h.click(APPROVE_ACTION, approval.id, {
      userId: BOB,
      home: true,
      blockId: `approval_home:${approval.id}`,
    });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 5_000;
    while ((await h.store.approvals.findById(approval.id))?.state === 'pending' && Date.now() < deadline)
      await wait(20);
    expect((await h.store.approvals.findById(approval.id))?.state).toBe('approved');
    // The clicker's dashboard is published again, without the decided approval's buttons.
    const again = await published(2);
    expect(again.user_id).toBe(BOB);
    expect(JSON.stringify(again.view)).not.toContain(`"value":"${approval.id}"`);
  });

  it('tells a refused Home-tab clicker why in the app DM (there is no response_url), and changes nothing', async () => {
    const { approval } = await seed();
    await h.click(APPROVE_ACTION, approval.id, { userId: ALICE, home: true, blockId: `approval_home:${approval.id}` });
    const [dm] = await h.stub.waitForApi('chat.postMessage');
    expect(dm).toMatchObject({ channel: ALICE });
    expect(String(dm!['text'])).toContain('SLACK_APPROVERS');
    expect((await h.store.approvals.findById(approval.id))?.state).toBe('pending');
  });

  it('a Deny from the Home tab carries the dashboard pages, and the submission re-publishes the dashboard', async () => {
    const { approval } = await seed();
    await h.click(DENY_ACTION, approval.id, {
      userId: BOB,
      home: true,
      blockId: `approval_home:${approval.id}`,
      privateMetadata: '{"certs":1}',
    });
    const [open] = await h.stub.waitForApi('views.open');
    const meta = (open!['view'] as { private_metadata: string }).private_metadata;
    expect(JSON.parse(meta)).toMatchObject({ id: approval.id, homePages: '{"certs":1}' });
    const res = await h.submitView(
      DENY_VIEW,
      { [REASON_BLOCK]: { [REASON_ACTION]: 'not this week' } },
      { userId: BOB, privateMetadata: meta },
    );
    expect(res.status).toBe(200);
    expect((await h.store.approvals.findById(approval.id))?.state).toBe('denied');
    const again = await published(1);
    expect(again.user_id).toBe(BOB);
  });

  it('publishes nothing for the Messages tab', async () => {
    await seed();
    const res = await opened(ALICE, 'messages');
    expect(res.status).toBe(200);
    await wait(300);
    expect(h.stub.api('views.publish')).toEqual([]);
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('publishes nothing for an event from another workspace', async () => {
    await seed();
    const res = await h.event(
      { type: 'app_home_opened', user: ALICE, channel: 'D0HOME', tab: 'home' },
      { teamId: 'T0OTHER' },
    );
    expect(res.status).toBe(200);
    await wait(300);
    expect(h.stub.api('views.publish')).toEqual([]);
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('pages with Next and Previous, keeping the other sections where they were, and refreshes', async () => {
    const profile = makeProfile({ name: 'prod-le' });
    await h.store.profiles.insert(profile);
    for (let i = 0; i < 25; i++) {
      await h.store.certificates.insert(
        makeCertificate(profile.id, {
          name: `c${String(i).padStart(2, '0')}.example.com`,
          state: 'issued',
          notAfter: new Date(Date.now() + (10 + i) * 86_400_000),
        }),
      );
    }
    for (let i = 0; i < 12; i++) {
      const d = makeDomain(profile.id, { name: `d${String(i).padStart(2, '0')}.example.com` });
      await h.store.domains.insertWithAuthorization(d, makeAuthorization(d.id));
    }

    const next = await h.click(HOME_NEXT_ACTION, 'certs:2', {
      userId: ALICE,
      home: true,
      privateMetadata: '{"domains":2}',
    });
    expect(next.status).toBe(200);
    const call = await published();
    expect(call.user_id).toBe(ALICE);
    const text = JSON.stringify(call.view);
    expect(text).toContain('*Certificates*  25 · page 2 of 3');
    expect(text).toContain('*c10.example.com*');
    expect(text).not.toContain('*c09.example.com*');
    expect(text).toContain('*Domains*  12 · page 2 of 2');
    expect(JSON.parse(call.view.private_metadata)).toEqual({ certs: 2, domains: 2 });

    await h.click(HOME_PREV_ACTION, 'certs:1', {
      userId: ALICE,
      home: true,
      privateMetadata: call.view.private_metadata,
    });
    const back = await published(2);
    expect(JSON.stringify(back.view)).toContain('*Certificates*  25 · page 1 of 3');
    expect(JSON.parse(back.view.private_metadata)).toEqual({ domains: 2 });

    await h.click(HOME_REFRESH_ACTION, 'refresh', { userId: ALICE, home: true, privateMetadata: '{"certs":3}' });
    const refreshed = await published(3);
    expect(JSON.stringify(refreshed.view)).toContain('*Certificates*  25 · page 3 of 3');
  });

  it('ignores a forged page value and still publishes a sane view', async () => {
    const res = await h.click(HOME_NEXT_ACTION, 'secrets:99', {
      userId: ALICE,
      home: true,
      privateMetadata: '{"certs":"x"',
    });
    expect(res.status).toBe(200);
    const call = await published();
    expect(call.view.private_metadata).toBe('{}');
    expect(JSON.stringify(call.view)).toContain('No certificates yet');
  });
});
