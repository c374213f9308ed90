import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, pebbleCertStatus, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, messageText, startBotHarness } from './bot-harness.ts';

/**
 * `/acme cert revoke NAME REASON [--reissue]` over the real Bolt receiver (signed requests) against Pebble:
 * admins only, bad input refused with nothing changed, an immediate revocation on a profile without
 * approvals, and on a semi-automatic profile a `revocation` approval that another approver's click carries out.
 */
const ALICE = 'U0ALICE'; // approver, not admin
const BOB = 'U0BOB'; // admin and approver
const CAROL = 'U0CAROL'; // approver
const NOW_NAME = 'now.rk.example.test';
const SEMI_NAME = 'semi.rk.example.test';
const DENY_NAME = 'deny.rk.example.test';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(25);
  }
}

for (const target of databaseTargets) {
  describeWithPebble(`Slack /acme cert revoke on ${target.kind}`, () => {
    const pebble = usePebble();
    let database: Database;
    let core: TestCore;
    let h: BotHarness;
    const serial: Record<string, string> = {};

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      const masterKey = randomBytes(32).toString('base64');
      const approvers = [ALICE, BOB, CAROL];
      core = await startTestCore(database, pebble(), masterKey, { approvers: approvers.map((u) => `slack:${u}`) });
      h = await startBotHarness({
        core: { database, store: core.store, secrets: createSecretBox(masterKey), services: core.services },
        env: { SLACK_APPROVERS: approvers.join(','), SLACK_ADMINS: BOB },
      });
      const { profiles, domains, certificates } = core.services;
      await profiles.create({ name: 'now', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true }, 't');
      await profiles.create(
        { name: 'semi', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true, renewApproval: true },
        't',
      );
      await domains.add('now', [NOW_NAME], 'http-01', 't');
      await domains.add('semi', [SEMI_NAME, DENY_NAME], 'http-01', 't');
      serial.now = (await certificates.request({ profile: 'now', commonName: NOW_NAME }, 't')).serial!;
      serial.semi = (await certificates.request({ profile: 'semi', commonName: SEMI_NAME }, 't')).serial!;
      serial.deny = (await certificates.request({ profile: 'semi', commonName: DENY_NAME }, 't')).serial!;
    });
    afterAll(async () => {
      await h?.close();
      await core?.close();
      await database?.close();
    });

    async function finalText(id: string, includes: string): Promise<string> {
      const r = await until(`a message with "${includes}"`, () =>
        h.stub.responses(id).find((m) => messageText(m).includes(includes)),
      );
      return messageText(r);
    }

    it('refuses a non-admin visibly, before the core is called; nothing is revoked', async () => {
      const res = await h.command(`cert revoke ${NOW_NAME} superseded`, { userId: ALICE });
      expect(messageText(await h.response(res.id))).toContain('SLACK_ADMINS');
      expect(h.coreCalls.calls).not.toContain('revocations.revoke');
      expect(await pebbleCertStatus(pebble(), serial.now!)).toMatchObject({ Status: 'Valid' });
    });

    it('bad input: usage without a reason, a clear error for a wrong reason or an unknown name; nothing changed', async () => {
      const usage = await h.command(`cert revoke ${NOW_NAME}`, { userId: BOB });
      expect(messageText(await h.response(usage.id))).toContain('cert revoke needs a name and a reason');

      const hold = await h.command(`cert revoke ${NOW_NAME} certificateHold`, { userId: BOB });
      expect(await finalText(hold.id, 'certificateHold is not a revocation')).toContain('use one of unspecified');
      const unknown = await h.command('cert revoke nope.rk.example.test superseded', { userId: BOB });
      expect(await finalText(unknown.id, 'no certificate named')).toContain('/acme cert list');

      const row = (await core.store.certificates.findByName(NOW_NAME))!;
      expect(row.revokedSerial).toBeNull();
      expect(await pebbleCertStatus(pebble(), serial.now!)).toMatchObject({ Status: 'Valid' });
      expect(await core.services.approvals.list('pending')).toEqual([]);
    });

    it('an admin revokes at once on a profile without approvals', async () => {
      const res = await h.command(`cert revoke ${NOW_NAME} superseded`, { userId: BOB });
      const text = await finalText(res.id, 'revoked (superseded)');
      expect(text).toContain(serial.now);
      expect(text).toContain('keep serving it until a replacement is deployed');
      expect(await pebbleCertStatus(pebble(), serial.now!)).toMatchObject({ Status: 'Revoked', Reason: 4 });
      expect((await core.store.certificates.findByName(NOW_NAME))!).toMatchObject({
        revokedSerial: serial.now,
        revokedBy: `slack:${BOB}`,
      });
      const shown = messageText(await h.response((await h.command(`cert show ${NOW_NAME}`, { userId: ALICE })).id));
      expect(shown).toContain(`*Revoked:*\\n:no_entry: superseded, `);
      expect(shown).toContain(`by slack:${BOB}`);
    });

    it('on a semi-automatic profile the revocation waits for another approver, whose click carries it out', async () => {
      const res = await h.command(`cert revoke ${SEMI_NAME} key-compromise`, { userId: BOB });
      expect(await finalText(res.id, 'Nothing is revoked yet')).toContain('waits for an approver (approval');
      expect(await pebbleCertStatus(pebble(), serial.semi!)).toMatchObject({ Status: 'Valid' });
      const [approval] = await core.services.approvals.list('pending');
      expect(approval).toMatchObject({
        kind: 'revocation',
        certificateName: SEMI_NAME,
        requestedBy: `slack:${BOB}`,
        summary: { serial: serial.semi, reason: 'keyCompromise', reissue: false },
      });

      const listed = messageText(await h.response((await h.command('approvals', { userId: CAROL })).id));
      expect(listed).toContain('*revocation* of *semi.rk.example.test*');
      expect(listed).toContain('*Revocation reason:*\\nkeyCompromise');
      expect(listed).toContain('*Replacement first:*\\nno');
      // Four eyes: the admin who asked cannot approve it.
      const own = await h.click('approval_approve', approval!.id, { userId: BOB, blockId: `approval:${approval!.id}` });
      expect(String((await h.response(own.id))['text'])).toContain('cannot decide their own request');
      expect(await pebbleCertStatus(pebble(), serial.semi!)).toMatchObject({ Status: 'Valid' });

      const ok = await h.click('approval_approve', approval!.id, {
        userId: CAROL,
        blockId: `approval:${approval!.id}`,
      });
      const told = await until('the revocation result', () =>
        h.stub.responses(ok.id).find((m) => String(m['text'] ?? '').startsWith('Revoked')),
      );
      expect(String(told['text'])).toContain(`serial ${serial.semi} (keyCompromise)`);
      expect(await pebbleCertStatus(pebble(), serial.semi!)).toMatchObject({ Status: 'Revoked', Reason: 1 });
      const row = (await core.store.certificates.findByName(SEMI_NAME))!;
      expect(row).toMatchObject({ revokedSerial: serial.semi, revocationReason: 'keyCompromise' });
      expect(row.revokedBy).toBe(`slack:${CAROL}`);
      expect((await core.store.approvals.findById(approval!.id))?.state).toBe('used');
    });

    it('a denied revocation changes nothing: not revoked, and renewals are not paused', async () => {
      const res = await h.command(`cert revoke ${DENY_NAME} superseded --reissue`, { userId: BOB });
      await finalText(res.id, 'Nothing is revoked yet');
      const approval = (await core.services.approvals.list('pending')).find((a) => a.certificateName === DENY_NAME)!;
      expect(approval.summary).toMatchObject({ reason: 'superseded', reissue: true });
      await core.services.approvals.deny(approval.id, `slack:${CAROL}`, 'not this one');
      const row = (await core.store.certificates.findByName(DENY_NAME))!;
      expect(row).toMatchObject({ serial: serial.deny, revokedSerial: null, nextAttemptAt: null });
      expect(await pebbleCertStatus(pebble(), serial.deny!)).toMatchObject({ Status: 'Valid' });
    });
  });
}
