import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEVICE_BLOCK } from '../../bot/modals/device-add.ts';
import { NOT_THIS_WORKSPACE } from '../../bot/team-guard.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * Issue 15: one scenario list, run under both receivers: the HTTP receiver (signed requests) and Socket
 * Mode (envelopes over a local WebSocket standing in for Slack's, acked by envelope id). A slash command,
 * a view submission, buttons and an App Home event behave the same, refusals name who may, a second
 * decision says who decided and when, and a request from another workspace gets a visible refusal in both.
 * The bot has no options (block_suggestion) handler, so there is no such scenario yet.
 */

const ADMIN = 'U0ADMIN';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const MALLORY = 'U0MALLORY';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const mode of ['http', 'socket'] as const) {
  describe(`the same scenarios over the ${mode === 'http' ? 'HTTP receiver' : 'Socket Mode receiver'}`, () => {
    let h: BotHarness;
    beforeAll(async () => {
      h = await startBotHarness({ mode, env: { SLACK_ADMINS: ADMIN, SLACK_APPROVERS: `${BOB},${CAROL}` } });
    });
    afterAll(async () => {
      await h?.close();
    });
    beforeEach(async () => {
      await h.reset();
    });

    async function pendingApproval(): Promise<string> {
      const profile = makeProfile({ name: 'prod' });
      await h.store.profiles.insert(profile);
      const cert = makeCertificate(profile.id, { name: 'www.example.com', commonName: 'www.example.com' });
      await h.store.certificates.insert(cert);
      const approval = await h.services.approvals.request(
        'renewal',
        cert,
        { names: ['www.example.com'], profile: profile.name },
        'scheduler',
      );
      return approval.id;
    }

    it('slash command: acked, answered ephemerally through response_url', async () => {
      await h.store.profiles.insert(makeProfile({ name: `${mode}-prod` }));
      const res = await h.command('profile list');
      expect(res.status).toBe(200);
      const answer = await h.response(res.id);
      expect(answer['response_type']).toBe('ephemeral');
      expect(JSON.stringify(answer)).toContain(`${mode}-prod`);
    });

    it('slash command for admins, by someone else: refused, naming the admins', async () => {
      const res = await h.command('device add', { userId: MALLORY });
      const text = JSON.stringify(await h.response(res.id));
      expect(text).toContain('Only admins may do this');
      expect(text).toContain(`<@${ADMIN}>`);
      expect(h.stub.api('views.open')).toEqual([]);
    });

    it('view submission by a non-admin: a field error in the ack, naming the admins', async () => {
      const res = await h.submitView(
        'device_add',
        { [DEVICE_BLOCK.name]: { value: 'bigip-1' } },
        { userId: MALLORY, privateMetadata: '{}' },
      );
      expect(res.json).toMatchObject({ response_action: 'errors' });
      expect(JSON.stringify(res.json)).toContain(`ask an admin: @${ADMIN}`);
      expect(await h.store.devices.list()).toEqual([]);
    });

    it('button by a non-approver: refused through response_url, naming the approvers', async () => {
      const id = await pendingApproval();
      const res = await h.click('approval_approve', id, { userId: MALLORY });
      const text = String((await h.response(res.id))['text']);
      expect(text).toContain('not allowed to decide');
      expect(text).toContain(`ask an approver: <@${BOB}> or <@${CAROL}>`);
      expect((await h.store.approvals.findById(id))?.state).toBe('pending');
    });

    it('a second decision says who decided and when, as a mention and a Slack date', async () => {
      const id = await pendingApproval();
      await h.services.approvals.approve(id, `slack:${BOB}`);
      const decidedAt = (await h.store.approvals.findById(id))!.decidedAt!;
      const res = await h.click('approval_approve', id, { userId: CAROL });
      const text = String((await h.response(res.id))['text']);
      expect(text).toBe(
        `Already approved by <@${BOB}> at <!date^${Math.floor(decidedAt.getTime() / 1000)}^{date_short_pretty} {time}|${decidedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC>; nothing changed.`,
      );
      expect(text).not.toContain('slack:');
    });

    it('App Home event: published for the user', async () => {
      const res = await h.event({ type: 'app_home_opened', user: BOB, channel: 'D0HOME', tab: 'home' });
      expect(res.status).toBe(200);
      const [published] = await h.stub.waitForApi('views.publish');
      expect(published!['user_id']).toBe(BOB);
    });

    describe('from another workspace: a visible refusal, never silence, and no core call', () => {
      it('slash command: the refusal is the ack itself (ephemeral)', async () => {
        const res = await h.command('status', { teamId: 'T0OTHER' });
        expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: NOT_THIS_WORKSPACE });
        await wait(100);
        expect(h.coreCalls.calls).toEqual([]);
      });

      it('button: the refusal goes through response_url, ephemeral, the message untouched', async () => {
        const id = await pendingApproval();
        const res = await h.click('approval_approve', id, { userId: BOB, teamId: 'T0OTHER' });
        expect(await h.response(res.id)).toEqual({
          response_type: 'ephemeral',
          replace_original: false,
          text: NOT_THIS_WORKSPACE,
        });
        expect(h.coreCalls.calls).toEqual([]);
        expect((await h.store.approvals.findById(id))?.state).toBe('pending');
      });

      it('view submission: the form is replaced by a view saying so', async () => {
        const res = await h.submitView(
          'device_add',
          { [DEVICE_BLOCK.name]: { value: 'bigip-1' } },
          { userId: ADMIN, teamId: 'T0OTHER', privateMetadata: '{}' },
        );
        expect(res.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
        expect(JSON.stringify(res.json)).toContain(NOT_THIS_WORKSPACE);
        expect(h.coreCalls.calls).toEqual([]);
        expect(await h.store.devices.list()).toEqual([]);
      });

      it('event: acknowledged, nothing published (there is nobody to answer there)', async () => {
        const res = await h.event(
          { type: 'app_home_opened', user: BOB, channel: 'D0HOME', tab: 'home' },
          { teamId: 'T0OTHER' },
        );
        expect(res.status).toBe(200);
        await wait(200);
        expect(h.stub.api('views.publish')).toEqual([]);
        expect(h.coreCalls.calls).toEqual([]);
      });
    });
  });
}
