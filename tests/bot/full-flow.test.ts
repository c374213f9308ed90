import { afterAll, beforeAll, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { APPROVE_ACTION } from '../../bot/blocks/approval.ts';
import { TEST_CONNECTION_ACTION } from '../../bot/blocks/challenge.ts';
import { DEVICE_BLOCK } from '../../bot/modals/device-add.ts';
import { ADD_BLOCKS } from '../../bot/modals/domain-add.ts';
import { PROFILE_BLOCK } from '../../bot/modals/profile-create.ts';
import { createNotifier } from '../../bot/notifier.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * The whole lifecycle, entirely through signed Slack requests to the real Bolt receiver, against Pebble:
 * an admin creates the CA profile (validate → ToS → create) and adds a BIG-IP; a team member adds a domain,
 * clicks Test Connection on the challenge message, and requests a certificate with the CSR form; the
 * notifier posts the approval request to the channel with its buttons; the requester's own click is
 * refused; an approver's click issues the certificate. Then everything the bot sent to "Slack" is scanned
 * for keys, passwords and the passphrase.
 */
const ADMIN = 'U0ADMIN';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CHANNEL = 'C0TEAM';
const NOTIFY = 'C0APPROVALS';
const PASSPHRASE = 'flow passphrase 4711';
const DEVICE_PASSWORD = 'device-Pa55word-flow';

type View = {
  callback_id: string;
  private_metadata?: string;
  blocks: { type: string; block_id?: string }[];
  title?: { text?: string };
};
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

for (const target of databaseTargets) {
  describeWithPebble(`the whole lifecycle through Slack on ${target.kind}`, () => {
    const pebble = usePebble();
    let database: Database;
    let core: TestCore;
    let h: BotHarness;
    let sim: BigIpSimulator;
    const domain = `www.flow-${target.kind}.example.test`;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      core = await startTestCore(database, pebble(), undefined, { approvers: [`slack:${BOB}`] });
      h = await startBotHarness({
        core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
        env: { SLACK_ADMINS: ADMIN, SLACK_APPROVERS: BOB },
      });
      sim = await startBigIpSimulator({ password: DEVICE_PASSWORD });
    });
    afterAll(async () => {
      await sim?.close();
      await h?.close();
      await core?.close();
      await database?.close();
    });

    async function openedView(command: string, userId: string): Promise<View> {
      const before = h.stub.api('views.open').length;
      const res = await h.command(command, { userId, channelId: CHANNEL });
      expect(res.status).toBe(200);
      const opened = await h.stub.waitForApi('views.open', before + 1);
      return opened[before]!['view'] as View;
    }

    async function nextUpdate(before: number, title?: string): Promise<View> {
      return until(`views.update ${title ?? ''}`, () => {
        const views = h.stub
          .api('views.update')
          .slice(before)
          .map((c) => c['view'] as View);
        return title ? views.find((v) => v.title?.text === title || JSON.stringify(v).includes(title)) : views[0];
      });
    }

    it('runs create profile → add device → add domain → test connection → request → approve → issued', async () => {
      // 1. An admin creates the CA profile: step 1, the CA's directory is fetched, step 2 accepts the ToS.
      const step1 = await openedView('profile create', ADMIN);
      expect(step1.callback_id).toBe('profile_create');
      let updates = h.stub.api('views.update').length;
      const v = (value: unknown) => ({ value });
      const validated = await h.submitView(
        'profile_create',
        {
          [PROFILE_BLOCK.name]: v('flow'),
          [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
          [PROFILE_BLOCK.serverUrl]: v(pebble().directoryUrl),
          [PROFILE_BLOCK.keySpec]: v({ selected: 'ec-p256' }),
          [PROFILE_BLOCK.contact]: v('team@example.com'),
          [PROFILE_BLOCK.renewDays]: v({ type: 'number_input', value: '30' }),
          [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '03:00' }),
          [PROFILE_BLOCK.timeZone]: v('UTC'),
          [PROFILE_BLOCK.automation]: v({ multi: ['auto_renew'] }),
          [PROFILE_BLOCK.approvals]: v({ multi: [] }),
        },
        { userId: ADMIN, privateMetadata: step1.private_metadata ?? '' },
      );
      expect(validated.json).toMatchObject({ response_action: 'update' });
      const step2 = await nextUpdate(updates);
      expect(step2.callback_id).toBe('profile_create_confirm');
      updates = h.stub.api('views.update').length;
      await h.submitView(
        'profile_create_confirm',
        { [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) },
        { userId: ADMIN, privateMetadata: step2.private_metadata! },
      );
      await nextUpdate(updates, 'Profile created');
      expect(await core.store.profiles.findByName('flow')).toMatchObject({ tosAgreed: true, keySpec: 'ec-p256' });

      // 2. The admin adds a BIG-IP; its password goes to the core and nowhere else.
      const deviceForm = await openedView('device add', ADMIN);
      updates = h.stub.api('views.update').length;
      await h.submitView(
        'device_add',
        {
          [DEVICE_BLOCK.name]: v('bigip-flow'),
          [DEVICE_BLOCK.url]: v(sim.url),
          [DEVICE_BLOCK.username]: v(sim.username),
          [DEVICE_BLOCK.password]: v(DEVICE_PASSWORD),
          [DEVICE_BLOCK.partition]: v('Common'),
          [DEVICE_BLOCK.caPem]: v(sim.caPem!),
          [DEVICE_BLOCK.insecure]: v({ multi: [] }),
        },
        { userId: ADMIN, privateMetadata: deviceForm.private_metadata ?? '' },
      );
      await nextUpdate(updates, 'added');
      expect(await core.store.devices.findByName('bigip-flow')).not.toBeNull();

      // 3. A team member adds the domain; the challenge content is posted to the channel.
      const addForm = await openedView(`domain add ${domain} --profile flow`, ALICE);
      const postsBefore = h.stub.api('chat.postMessage').length;
      await h.submitView(
        'domain_add',
        {
          [ADD_BLOCKS.profile]: { profile: { selected: 'flow' } },
          [ADD_BLOCKS.names]: { names: domain },
          [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
        },
        { userId: ALICE, privateMetadata: addForm.private_metadata ?? '' },
      );
      const challengePost = await until('the challenge message', () =>
        h.stub
          .api('chat.postMessage')
          .slice(postsBefore)
          .find((p) => JSON.stringify(p['blocks']).includes(domain)),
      );
      expect(challengePost['channel']).toBe(CHANNEL);
      const content = await core.services.domains.challenge({ name: domain, profile: 'flow' });
      expect(JSON.stringify(challengePost['blocks'])).toContain(content.http!.content);

      // 4. Test Connection, clicked on that message: it updates in place to valid.
      const testButton = (challengePost['blocks'] as Blocks)
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === TEST_CONNECTION_ACTION)!;
      await h.click(TEST_CONNECTION_ACTION, testButton.value!, {
        userId: ALICE,
        channelId: CHANNEL,
        messageTs: '1700000000.424242',
      });
      await until('Test Connection: valid', () =>
        h.stub
          .api('chat.update')
          .some(
            (u) =>
              u['ts'] === '1700000000.424242' && JSON.stringify(u['blocks']).includes(':white_check_mark: *valid*'),
          ),
      );
      expect((await core.services.domains.show({ name: domain, profile: 'flow' })).domain.status).toBe('valid');

      // 5. The CSR form: the common name is picked from the profile's valid domains.
      const csrForm = await openedView('cert request --profile flow', ALICE);
      expect(JSON.stringify(csrForm)).toContain(domain);
      updates = h.stub.api('views.update').length;
      const requested = await h.submitView(
        'cert_request',
        {
          cert_req_profile: { cert_req_profile_pick: { selected: 'flow' } },
          cert_req_partition: { value: 'Common' },
          'cert_req_cn.flow': { value: { selected: domain } },
          'cert_req_sans.flow': { value: { multi: [] } },
          cert_req_passphrase: { value: PASSPHRASE },
          cert_req_name: { value: '' },
        },
        { userId: ALICE, privateMetadata: csrForm.private_metadata ?? '' },
      );
      expect(requested.status).toBe(200);
      const [cert] = await until('the requested certificate', async () => {
        const rows = await core.services.certificates.list('flow');
        return rows.length === 1 ? rows : null;
      });
      expect(cert!.state).toBe('requested');

      // 6. The notifier posts the approval request to the approvers' channel, with its buttons.
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
      expect(approvalPost).toBeDefined();
      const approveButton = (approvalPost['blocks'] as Blocks)
        .flatMap((b) => b.elements?.map((e) => ({ ...e, block_id: b.block_id })) ?? [])
        .find((e) => e.action_id === APPROVE_ACTION)!;
      expect(JSON.stringify(approvalPost['blocks'])).toContain(domain);

      // 7. The requester cannot approve their own request (not an approver either); nothing changes.
      await h.click(APPROVE_ACTION, approveButton.value!, {
        userId: ALICE,
        blockId: approveButton.block_id!,
        channelId: NOTIFY,
        messageTs: '1700000001.000001',
      });
      await new Promise((r) => setTimeout(r, 300));
      expect((await core.store.approvals.findById(approveButton.value!))?.state).toBe('pending');
      expect((await core.services.certificates.show(cert!.name)).state).toBe('requested');

      // 8. The approver approves: the certificate is issued by Pebble and the message says so.
      await h.click(APPROVE_ACTION, approveButton.value!, {
        userId: BOB,
        blockId: approveButton.block_id!,
        channelId: NOTIFY,
        messageTs: '1700000001.000001',
      });
      const issued = await until('the certificate issued', async () => {
        const c = await core.services.certificates.show(cert!.name);
        return c.state === 'issued' ? c : null;
      });
      expect(issued.serial).toMatch(/^[0-9a-f]+$/);
      await until('the approval message showing the serial', () =>
        h.stub
          .api('chat.update')
          .some((u) => u['ts'] === '1700000001.000001' && JSON.stringify(u).includes(issued.serial!)),
      );

      // Who did what is in the audit log, under the Slack users.
      const audit = (await core.store.audit.list({})).map((a) => `${a.action} ${a.actor}`);
      expect(audit).toEqual(
        expect.arrayContaining([
          `profile.create slack:${ADMIN}`,
          `device.add slack:${ADMIN}`,
          `domain.add slack:${ALICE}`,
          `certificate.request slack:${ALICE}`,
          `approval.approve slack:${BOB}`,
        ]),
      );

      // 9. Nothing secret reached Slack: keys, the passphrase, the device password, sealed values.
      const { keyPem } = await core.services.certificates.export(cert!.name, { includeKey: true }, 'test');
      const keyBody = keyPem!.split('\n').slice(1, 3).join('');
      const sent = h.stub.calls.map((c) => `${c.path} ${decodeURIComponent(c.body.replace(/\+/g, ' '))}`).join('\n');
      expect(sent.length).toBeGreaterThan(10_000);
      for (const secret of ['PRIVATE KEY', PASSPHRASE, DEVICE_PASSWORD, keyBody, 'v1.'])
        expect(sent).not.toContain(secret);
      const profile = await core.store.profiles.findByName('flow');
      const device = await core.store.devices.findByName('bigip-flow');
      for (const sealed of [
        profile?.accountKeySealed,
        device?.passwordSealed,
        (await core.store.certificates.findByName(cert!.name))?.keySealed,
      ]) {
        expect(sealed).toBeTruthy();
        expect(sent).not.toContain(sealed!.slice(-24));
      }
    });
  });
}
