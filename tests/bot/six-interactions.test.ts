import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { APPROVE_ACTION } from '../../bot/blocks/approval.ts';
import { DEVICE_BLOCK } from '../../bot/modals/device-add.ts';
import { PROFILE_BLOCK } from '../../bot/modals/profile-create.ts';
import { NEW_PROFILE_PREFIX, SERVE_BLOCK, SERVE_REQUEST_VIEW } from '../../bot/modals/serve-request.ts';
import { createNotifier } from '../../bot/notifier.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import type { Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { schemaTables, sealedValuesOutsideRegistry } from '../support/sealed-scan.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * Issue 15's target, counted: from an EMPTY install to a certificate SERVING on a BIG-IP client-ssl profile
 * in at most six Slack interactions, every one a signed request to the real Bolt receiver, against Pebble
 * and the BIG-IP simulator. An admin runs `/acme setup` and submits three views (CA profile with the ToS
 * on it, BIG-IP, request form with the client-ssl profile picked from the device's live list); an approver
 * clicks Approve; the certificate is issued and deployed by itself. Every interaction is counted, including
 * the picker's options request; every ack time is recorded (p99 printed, not asserted); everything sent to
 * "Slack" is scanned for secrets.
 */
const ADMIN = 'U0ADMIN';
const BOB = 'U0BOB';
const CHANNEL = 'C0TEAM';
const NOTIFY = 'C0APPROVALS';
const DEVICE_PASSWORD = 'device-Pa55word-six';
const MAX_INTERACTIONS = 6;

type View = { callback_id: string; private_metadata?: string; blocks: unknown[]; title?: { text?: string } };
type Blocks = { type: string; block_id?: string; elements?: { action_id?: string; value?: string }[] }[];

async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== null && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const serialOf = (hex: string) => hex.toLowerCase().replace(/^0+/, '');

for (const target of databaseTargets) {
  describeWithPebble(`six interactions from nothing to a serving certificate on ${target.kind}`, () => {
    const pebble = usePebble();
    let database: Database;
    let core: TestCore;
    let h: BotHarness;
    let sim: BigIpSimulator;
    const domain = `www.six-${target.kind}.example.test`;
    const VS_PROFILE = '/Common/www_six_clientssl';

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      core = await startTestCore(database, pebble(), undefined, { approvers: [`slack:${BOB}`] });
      h = await startBotHarness({
        core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
        env: { SLACK_ADMINS: ADMIN, SLACK_APPROVERS: BOB },
      });
      sim = await startBigIpSimulator({ password: DEVICE_PASSWORD });
      // What the virtual server already uses: a client-ssl profile serving the factory certificate.
      sim.addProfile(VS_PROFILE);
    });
    afterAll(async () => {
      await sim?.close();
      await h?.close();
      await core?.close();
      await database?.close();
    });

    it('runs /acme setup → profile → BIG-IP → request → Approve, and the BIG-IP serves the new certificate', async () => {
      // Empty install.
      expect(await core.services.profiles.list()).toEqual([]);
      expect(await core.services.devices.list()).toEqual([]);

      const interactions: {
        what: string;
        kind: 'command' | 'view_submission' | 'block_actions' | 'block_suggestion';
        ms: number;
      }[] = [];
      const timed = async <T extends { status: number }>(
        what: string,
        kind: (typeof interactions)[number]['kind'],
        send: () => Promise<T>,
      ): Promise<T> => {
        const started = performance.now();
        const res = await send();
        interactions.push({ what, kind, ms: performance.now() - started });
        expect(res.status, what).toBe(200);
        return res;
      };
      const updatesNow = () => h.stub.api('views.update').length;
      const nextView = (before: number, callbackId: string) =>
        until(`views.update to ${callbackId}`, () =>
          h.stub
            .api('views.update')
            .slice(before)
            .map((c) => c['view'] as View)
            .find((v) => v.callback_id === callbackId),
        );
      const v = (value: unknown) => ({ value });

      // 1. /acme setup (admin): the CA profile form, with the terms of service on the same view.
      await timed('/acme setup', 'command', () => h.command('setup', { userId: ADMIN, channelId: CHANNEL }));
      const [opened] = await h.stub.waitForApi('views.open', 1);
      const profileView = opened!['view'] as View;
      expect(profileView.callback_id).toBe('profile_create');
      expect(JSON.stringify(profileView)).toContain(PROFILE_BLOCK.tos);

      // 2. Submit it, ToS ticked: the directory is read, the account registered, and the BIG-IP form follows.
      let before = updatesNow();
      const submitted = await timed('submit CA profile', 'view_submission', () =>
        h.submitView(
          'profile_create',
          {
            [PROFILE_BLOCK.name]: v('six'),
            [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
            [PROFILE_BLOCK.serverUrl]: v(pebble().directoryUrl),
            [PROFILE_BLOCK.keySpec]: v({ selected: 'ec-p256' }),
            [PROFILE_BLOCK.contact]: v('team@example.com'),
            [PROFILE_BLOCK.renewDays]: v({ type: 'number_input', value: '30' }),
            [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '03:00' }),
            [PROFILE_BLOCK.timeZone]: v('UTC'),
            [PROFILE_BLOCK.automation]: v({ multi: ['auto_renew', 'auto_deploy'] }),
            [PROFILE_BLOCK.approvals]: v({ multi: [] }),
            [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }),
          },
          { userId: ADMIN, privateMetadata: profileView.private_metadata ?? '' },
        ),
      );
      expect(submitted.json).toMatchObject({ response_action: 'update' });
      const deviceView = await nextView(before, 'device_add');
      expect(JSON.stringify(deviceView)).toContain('Step 2 of 3');
      const created = await core.store.profiles.findByName('six');
      expect(created).toMatchObject({ tosAgreed: true, autoDeploy: true });
      // The terms the CA published are named right after the agreement (and stored with the profile).
      if (created!.tosUrl) expect(JSON.stringify(deviceView)).toContain('terms of service accepted');

      // 3. Submit the BIG-IP: tested on submit, stored, and the request form follows with profile and device chosen.
      before = updatesNow();
      await timed('submit BIG-IP', 'view_submission', () =>
        h.submitView(
          'device_add',
          {
            [DEVICE_BLOCK.name]: v('bigip-six'),
            [DEVICE_BLOCK.url]: v(sim.url),
            [DEVICE_BLOCK.username]: v(sim.username),
            [DEVICE_BLOCK.password]: v(DEVICE_PASSWORD),
            [DEVICE_BLOCK.partition]: v('Common'),
            [DEVICE_BLOCK.caPem]: v(sim.caPem!),
            [DEVICE_BLOCK.insecure]: v({ multi: [] }),
          },
          { userId: ADMIN, privateMetadata: deviceView.private_metadata ?? '' },
        ),
      );
      const requestView = await nextView(before, SERVE_REQUEST_VIEW);
      expect(JSON.stringify(requestView)).toContain('Step 3 of 3');
      expect(await core.store.devices.findByName('bigip-six')).not.toBeNull();

      // The client-ssl picker: Slack asks the bot for options as the admin opens it; read live over iControl.
      const picker = await timed('client-ssl options', 'block_suggestion', () =>
        h.suggest(SERVE_BLOCK.clientSsl, '', {
          userId: ADMIN,
          callbackId: SERVE_REQUEST_VIEW,
          privateMetadata: requestView.private_metadata ?? '',
        }),
      );
      const offered = picker.options.map((o) => o.value);
      expect(offered).toEqual(expect.arrayContaining(['/Common/clientssl', VS_PROFILE]));
      expect(offered).toContain(`${NEW_PROFILE_PREFIX}/Common/clientssl`);

      // 4. Submit the request: the name is added as a domain, its HTTP-01 challenge answered by the built-in
      // responder and tested with the CA, then the request is filed with its approval, and the binding added.
      before = updatesNow();
      await timed('submit request', 'view_submission', () =>
        h.submitView(
          SERVE_REQUEST_VIEW,
          {
            [SERVE_BLOCK.profile]: v({ selected: 'six' }),
            [SERVE_BLOCK.names]: v(domain),
            [SERVE_BLOCK.challenge]: v({ selected: 'http-01' }),
            [SERVE_BLOCK.device]: v({ selected: 'bigip-six' }),
            [SERVE_BLOCK.clientSsl]: v({ selected: VS_PROFILE }),
          },
          { userId: ADMIN, privateMetadata: requestView.private_metadata ?? '' },
        ),
      );
      const done = await nextView(before, `${SERVE_REQUEST_VIEW}_done`);
      expect(JSON.stringify(done)).toContain(VS_PROFILE);
      expect((await core.services.domains.show({ name: domain, profile: 'six' })).domain.status).toBe('valid');
      const [cert] = await core.services.certificates.list('six');
      expect(cert).toMatchObject({ state: 'requested', commonName: domain });
      expect(await core.services.bindings.list({ certificate: cert!.name })).toMatchObject([
        { deviceName: 'bigip-six', profilePath: VS_PROFILE, deployedFingerprint: null },
      ]);

      // The approval request reaches the approvers' channel through the outbox (not an interaction).
      const notifier = createNotifier({
        outbox: createOutboxService({ store: core.store, clock: systemClock, log: silentLogger }),
        client: new webApi.WebClient('xoxb-test-token', {
          slackApiUrl: `${h.stub.url}/api/`,
          retryConfig: { retries: 0 },
        }),
        channel: NOTIFY,
        clock: systemClock,
        log: silentLogger,
        spacingMs: 0,
      });
      expect((await notifier.runOnce()).posted).toBeGreaterThanOrEqual(1);
      const approvalPost = h.stub
        .api('chat.postMessage')
        .find((p) => p['channel'] === NOTIFY && JSON.stringify(p['blocks']).includes(APPROVE_ACTION))!;
      expect(JSON.stringify(approvalPost['blocks'])).toContain(domain);
      const approve = (approvalPost['blocks'] as Blocks)
        .flatMap((b) => b.elements?.map((e) => ({ ...e, block_id: b.block_id })) ?? [])
        .find((e) => e.action_id === APPROVE_ACTION)!;

      // 5. The approver clicks Approve: issued by Pebble, then deployed to the binding by itself.
      await timed('Approve', 'block_actions', () =>
        h.click(APPROVE_ACTION, approve.value!, {
          userId: BOB,
          blockId: approve.block_id!,
          channelId: NOTIFY,
          messageTs: '1700000002.000001',
        }),
      );
      const [binding] = await until('the binding serving the issued certificate', async () => {
        const c = await core.services.certificates.show(cert!.name);
        if (c.state !== 'issued') return null;
        const rows = await core.services.bindings.list({ certificate: cert!.name });
        return rows.every((b) => b.deployedFingerprint === c.fingerprintSha256) ? rows : null;
      });
      const issued = await core.services.certificates.show(cert!.name);
      expect(binding!.deployedSerial).toBe(issued.serial);

      // The simulator's client-ssl profile now points at the new certificate and key; the serial matches.
      const chain = sim.state.profiles.get(VS_PROFILE)!.certKeyChain;
      expect(chain).toHaveLength(1);
      expect(chain[0]!.cert).not.toBe('/Common/default.crt');
      const served = new X509Certificate(sim.state.certs.get(chain[0]!.cert)!.pem);
      expect(serialOf(served.serialNumber)).toBe(serialOf(issued.serial!));
      // …with a key installed beside it; the served certificate belongs to the certificate's own key.
      expect(sim.state.keys.has(chain[0]!.key)).toBe(true);
      const exported = await core.services.certificates.export(cert!.name, { includeKey: true }, 'test');
      expect(served.checkPrivateKey(createPrivateKey(exported.keyPem!))).toBe(true);

      // The count: every command, submission, click — and the picker's options request — is ≤ 6.
      const byPerson = interactions.filter((i) => i.kind !== 'block_suggestion');
      console.log(
        `six-interactions (${target.kind}): ${byPerson.length} by people + ${interactions.length - byPerson.length} options load = ${interactions.length}; ` +
          interactions.map((i) => `${i.what} ${i.ms.toFixed(1)} ms`).join(', '),
      );
      const sorted = interactions.map((i) => i.ms).sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
      console.log(`six-interactions (${target.kind}): ack p99 ${p99.toFixed(1)} ms over ${sorted.length} requests`);
      expect(byPerson).toHaveLength(5);
      expect(interactions.length).toBeLessThanOrEqual(MAX_INTERACTIONS);

      // Who did what, under their Slack users.
      const audit = (await core.store.audit.list({})).map((a) => `${a.action} ${a.actor}`);
      expect(audit).toEqual(
        expect.arrayContaining([
          `profile.create slack:${ADMIN}`,
          `device.add slack:${ADMIN}`,
          `domain.add slack:${ADMIN}`,
          `certificate.request slack:${ADMIN}`,
          `binding.add slack:${ADMIN}`,
          `approval.approve slack:${BOB}`,
        ]),
      );

      // Nothing secret reached Slack: the key, the device password, any sealed value in the database.
      const { keyPem } = await core.services.certificates.export(cert!.name, { includeKey: true }, 'test');
      const keyBody = keyPem!.split('\n').slice(1, 3).join('');
      const sent = h.stub.calls.map((c) => `${c.path} ${decodeURIComponent(c.body.replace(/\+/g, ' '))}`).join('\n');
      expect(sent.length).toBeGreaterThan(5_000);
      for (const secret of ['PRIVATE KEY', DEVICE_PASSWORD, keyBody, 'v1.']) expect(sent).not.toContain(secret);
      const sealed: string[] = [];
      for (const table of schemaTables()) {
        for (const row of (await (
          database.db as never as { select(): { from(t: unknown): Promise<Record<string, unknown>[]> } }
        )
          .select()
          .from(table)) as Record<string, unknown>[]) {
          for (const value of Object.values(row))
            if (typeof value === 'string' && /^v1\.[0-9a-f]{16}\./.test(value)) sealed.push(value);
        }
      }
      expect(sealed.length).toBeGreaterThanOrEqual(3);
      for (const s of sealed) expect(sent).not.toContain(s.slice(-24));
      expect(await sealedValuesOutsideRegistry(database)).toEqual([]);
    });
  });
}
