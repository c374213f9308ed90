import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, messageText, startBotHarness } from './bot-harness.ts';

/**
 * `/acme cert request|show|renew|deploy` over the real Bolt receiver, with a real CA (Pebble): the CSR form,
 * its inline errors, the request waiting for an issuance approval, the Approve button issuing it and
 * updating the message in place, then show, renew and deploy.
 */
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const PASSPHRASE = 'Tr0ub4dor&3-never-shown';
const WWW = 'www.cf.example.test';
const API = 'api.cf.example.test';
const PENDING = 'pending.cf.example.test';
const OTHER = 'other.cf.example.test';

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

type Json = Record<string, unknown>;
const blocksOf = (view: Json) => view['blocks'] as (Json & { block_id?: string })[];
const optionValues = (block: Json | undefined) =>
  (((block?.['element'] as Json | undefined)?.['options'] ?? []) as { value: string }[]).map((o) => o.value);

describeWithPebble('Slack certificate requests with an issuance approval', () => {
  const pebble = usePebble();
  let database: Database;
  let core: TestCore;
  let h: BotHarness;
  let sim: BigIpSimulator;

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    const masterKey = randomBytes(32).toString('base64');
    core = await startTestCore(database, pebble(), masterKey, { approvers: [`slack:${BOB}`, `slack:${ALICE}`] });
    // Alice is an approver too, so refusing her own request is the core's self-approval rule, not the list.
    h = await startBotHarness({
      core: { database, store: core.store, secrets: createSecretBox(masterKey), services: core.services },
      env: { SLACK_APPROVERS: `${BOB},${ALICE}`, SLACK_ADMINS: BOB },
    });
    const { profiles, domains } = core.services;
    await profiles.create({ name: 'web', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true }, 'test');
    await profiles.create(
      { name: 'other', server: pebble().directoryUrl, keySpec: 'rsa-2048', acceptTos: true },
      'test',
    );
    await domains.add('web', [WWW, API, PENDING], 'http-01', 'test');
    await domains.add('other', [OTHER], 'http-01', 'test');
    // As after a successful `domain test`: the form offers valid domains only.
    for (const d of await core.store.domains.findByName(WWW))
      await core.store.domains.update(d.id, { status: 'valid' });
    for (const d of await core.store.domains.findByName(API))
      await core.store.domains.update(d.id, { status: 'valid' });
    for (const d of await core.store.domains.findByName(OTHER))
      await core.store.domains.update(d.id, { status: 'valid' });
    sim = await startBigIpSimulator();
    sim.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
    await sim?.close();
  });

  const submit = (values: Record<string, Record<string, unknown>>) =>
    h.submitView('cert_request', values, { userId: ALICE });
  const good = (extra: Record<string, Record<string, unknown>> = {}) => ({
    cert_req_profile: { cert_req_profile_pick: { selected: 'web' } },
    cert_req_partition: { value: 'Common' },
    [`cert_req_cn.web`]: { value: { selected: WWW } },
    [`cert_req_sans.web`]: { value: { multi: [API] } },
    cert_req_passphrase: { value: PASSPHRASE },
    cert_req_name: { value: '' },
    ...extra,
  });
  let approvalId = '';

  it('opens the form with the profile preselected and only its valid domains to pick', async () => {
    const res = await h.command('cert request --profile web', { userId: ALICE });
    expect(res.status).toBe(200);
    const [open] = await h.stub.waitForApi('views.open');
    expect(open!['trigger_id']).toBe(`trigger-${res.id}`);
    const view = open!['view'] as Json;
    expect(view['callback_id']).toBe('cert_request');
    const blocks = blocksOf(view);
    const profile = blocks.find((b) => b.block_id === 'cert_req_profile')!;
    expect(profile['dispatch_action']).toBe(true);
    expect((profile['element'] as Json)['initial_option']).toMatchObject({ value: 'web' });
    expect(optionValues(profile)).toEqual(['other', 'web']);
    expect(optionValues(blocks.find((b) => b.block_id === 'cert_req_cn.web')).sort()).toEqual([API, WWW]);
    expect(optionValues(blocks.find((b) => b.block_id === 'cert_req_sans.web')).sort()).toEqual([API, WWW]);
    expect(JSON.stringify(view)).toContain('ECDSA P-256');
    expect(h.coreCalls.calls).not.toContain('certificates.request');
  });

  it('changing the profile re-renders the form with that profile’s domains and key', async () => {
    const before = h.stub.api('views.update').length;
    const res = await h.click('cert_req_profile_pick', '', {
      userId: ALICE,
      viewId: 'V0FORM',
      hash: 'hash-7',
      callbackId: 'cert_request',
      selected: 'other',
      blockId: 'cert_req_profile',
      viewValues: { cert_req_partition: { value: 'Tenant_A' }, cert_req_name: { value: 'keep-me' } },
    });
    expect(res.status).toBe(200);
    const updates = await h.stub.waitForApi('views.update', before + 1);
    const update = updates.at(-1)!;
    expect(update).toMatchObject({ view_id: 'V0FORM', hash: 'hash-7' });
    const blocks = blocksOf(update['view'] as Json);
    expect(optionValues(blocks.find((b) => b.block_id === 'cert_req_cn.other'))).toEqual([OTHER]);
    expect(blocks.find((b) => b.block_id === 'cert_req_cn.web')).toBeUndefined();
    const json = JSON.stringify(update['view']);
    expect(json).toContain('RSA 2048');
    expect(json).toContain('Tenant_A');
    expect(json).toContain('keep-me');
  });

  it('answers invalid submissions inline and stores nothing', async () => {
    const cases: { values: Record<string, Record<string, unknown>>; block: string; message: RegExp }[] = [
      {
        values: good({ 'cert_req_cn.web': { value: { selected: PENDING } } }),
        block: 'cert_req_cn.web',
        message: /not a valid domain of profile "web"/,
      },
      {
        values: good({ 'cert_req_cn.web': { value: { selected: OTHER } } }),
        block: 'cert_req_cn.web',
        message: /not a valid domain/,
      },
      {
        values: good({ 'cert_req_sans.web': { value: { multi: [OTHER] } } }),
        block: 'cert_req_sans.web',
        message: /Not valid domains/,
      },
      { values: good({ cert_req_passphrase: { value: 'abc' } }), block: 'cert_req_passphrase', message: /at least 4/ },
      {
        values: good({ cert_req_partition: { value: 'Bad Partition' } }),
        block: 'cert_req_partition',
        message: /partition/,
      },
      { values: good({ cert_req_name: { value: '1-not-a-name' } }), block: 'cert_req_name', message: /object name/i },
      {
        values: good({ cert_req_profile: { cert_req_profile_pick: { selected: 'nope' } } }),
        block: 'cert_req_profile',
        message: /no CA profile named "nope"/,
      },
      // Names offered for one profile, submitted with another selected (a stale form).
      {
        values: good({ cert_req_profile: { cert_req_profile_pick: { selected: 'other' } } }),
        block: 'cert_req_cn.web',
        message: /offered for profile "web"/,
      },
    ];
    for (const c of cases) {
      const res = await submit(c.values);
      expect(res.status).toBe(200);
      expect(res.json?.['response_action'], JSON.stringify(c.values)).toBe('errors');
      const errors = res.json?.['errors'] as Record<string, string>;
      expect(Object.keys(errors)).toEqual([c.block]);
      expect(errors[c.block]).toMatch(c.message);
      expect(JSON.stringify(res.json)).not.toContain(PASSPHRASE);
    }
    expect(h.coreCalls.calls).not.toContain('certificates.request');
    expect(await core.store.certificates.list()).toEqual([]);
    expect(await core.store.approvals.list()).toEqual([]);
  });

  it('a good submission stores the request with a pending issuance approval, orders nothing, and says so', async () => {
    const res = await submit(good());
    expect(res.json).toMatchObject({ response_action: 'update' });
    const shown = JSON.stringify(res.json);
    expect(shown).toContain('Requested — waiting for an approver');
    expect(shown).toContain(WWW);
    expect(shown).not.toContain(PASSPHRASE);

    const cert = (await core.store.certificates.findByName(WWW))!;
    expect(cert).toMatchObject({
      state: 'requested',
      commonName: WWW,
      sans: [API],
      orderUrl: null,
      orderAttempts: 0,
      requestedBy: `slack:${ALICE}`,
    });
    expect(cert.passphraseSealed).not.toBeNull();
    const pending = await core.services.approvals.list('pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ kind: 'issuance', certificateName: WWW, requestedBy: `slack:${ALICE}` });
    approvalId = pending[0]!.id;
    const events = await core.store.events.list({ certificateId: cert.id });
    expect(events.map((e) => e.kind)).toEqual(['approval_requested']);
  });

  it('a core refusal comes back inline on its field: the object name is taken', async () => {
    const res = await submit(good({ 'cert_req_sans.web': { value: { multi: [] } } }));
    expect(res.json?.['response_action']).toBe('errors');
    expect(res.json?.['errors']).toEqual({ cert_req_name: expect.stringMatching(/already exists/) });
    expect((await core.store.certificates.list()).length).toBe(1);
  });

  it('shows the issuance approval from server-side state in /acme approvals', async () => {
    const res = await h.command('approvals', { userId: BOB });
    const shown = messageText(await h.response(res.id));
    expect(shown).toContain(`*issuance* of *${WWW}*`);
    expect(shown).toContain('*Partition:*');
    expect(shown).toContain('ECDSA P-256');
    expect(shown).not.toContain(PASSPHRASE);
  });

  it('refuses the requester’s own approval and changes nothing', async () => {
    const updatesBefore = h.stub.api('chat.update').length;
    const res = await h.click('approval_approve', approvalId, { userId: ALICE, blockId: `approval:${approvalId}` });
    expect(res.status).toBe(200);
    const answer = await h.response(res.id);
    expect(answer).toMatchObject({ replace_original: false });
    expect(String(answer['text'])).toMatch(
      /slack:U0ALICE requested certificate ".*" and cannot decide its issuance: someone else must decide/,
    );
    await wait(200);
    expect(h.stub.api('chat.update').length).toBe(updatesBefore);
    expect((await core.store.approvals.findById(approvalId))?.state).toBe('pending');
    expect((await core.store.certificates.findByName(WWW))?.state).toBe('requested');
  });

  it('an approver approves: the certificate is issued by the CA and the message shows its serial', async () => {
    const res = await h.click('approval_approve', approvalId, {
      userId: BOB,
      blockId: `approval:${approvalId}`,
      channelId: 'C0APPROVALS',
      messageTs: '1700000009.000100',
    });
    expect(res.status).toBe(200);
    const final = await until('the issued message', () =>
      h.stub.api('chat.update').find((u) => JSON.stringify(u).includes('Issued')),
    );
    expect(final).toMatchObject({ channel: 'C0APPROVALS', ts: '1700000009.000100' });
    const cert = (await core.store.certificates.findByName(WWW))!;
    expect(cert.state).toBe('issued');
    const shown = JSON.stringify(final);
    expect(shown).toContain(cert.serial!);
    expect(shown).toContain('Approved by <@U0BOB>');
    expect(shown).not.toContain('approval_approve');
    expect((await core.store.approvals.findById(approvalId))?.state).toBe('used');
    const audit = (await core.store.audit.list({ objectId: cert.id, limit: 50 })).map((a) => `${a.actor} ${a.action}`);
    expect(audit).toEqual(
      expect.arrayContaining([
        `slack:${ALICE} certificate.request`,
        `slack:${BOB} approval.approve`,
        `slack:${BOB} certificate.issued`,
      ]),
    );
  });

  it('a second click changes nothing', async () => {
    const serial = (await core.store.certificates.findByName(WWW))!.serial;
    const updatesBefore = h.stub.api('chat.update').length;
    const res = await h.click('approval_approve', approvalId, { userId: BOB, blockId: `approval:${approvalId}` });
    expect(String((await h.response(res.id))['text'])).toMatch(
      new RegExp(`^Already approved( \\(and acted on\\))? by <@${BOB}> at <!date\\^`),
    );
    await wait(300);
    expect(h.stub.api('chat.update').length).toBe(updatesBefore);
    expect((await core.store.certificates.findByName(WWW))!.serial).toBe(serial);
    expect((await core.store.approvals.findById(approvalId))?.state).toBe('used');
  });

  it('cert show: names, state, serial, days left and where it is deployed', async () => {
    const cert = (await core.store.certificates.findByName(WWW))!;
    const res = await h.command(`cert show ${WWW}`, { userId: ALICE });
    const shown = messageText(await h.response(res.id));
    expect(shown).toContain(cert.serial!);
    expect(shown).toContain('issued');
    expect(shown).toContain(API);
    expect(shown).toMatch(/\d+ days? left/);
    expect(shown).toContain('no BIG-IP profile is bound');
    const missing = await h.command('cert show nope.example.test', { userId: ALICE });
    expect(messageText(await h.response(missing.id))).toContain('no certificate named');
  });

  it('cert renew: answers first, then updates the same message to a summary', async () => {
    const before = (await core.store.certificates.findByName(WWW))!.serial;
    const refused = await h.command(`cert renew ${WWW}`, { userId: ALICE });
    expect(messageText(await h.response(refused.id))).toContain('SLACK_ADMINS');
    expect(h.coreCalls.calls).not.toContain('certificates.renew');
    const res = await h.command(`cert renew ${WWW} nope.example.test`, { userId: BOB });
    const first = await h.response(res.id);
    expect(messageText(first)).toContain('Renewing 2 certificates');
    const summary = await until('the renewal summary', () =>
      h.stub.responses(res.id).find((r) => messageText(r).includes('Renewal finished')),
    );
    expect(summary).toMatchObject({ replace_original: true });
    expect(h.stub.responses(res.id).length).toBeLessThanOrEqual(5);
    const shown = messageText(summary);
    expect(shown).toContain('1 renewed');
    expect(shown).toContain('1 failed');
    expect(shown).toContain('no certificate named');
    const after = (await core.store.certificates.findByName(WWW))!;
    expect(after.state).toBe('issued');
    expect(after.serial).not.toBe(before);
    expect(shown).toContain(after.serial!);
  });

  it('cert deploy: refuses without a binding, then deploys to the bound BIG-IP with a per-device result', async () => {
    const refused = await h.command(`cert deploy ${WWW}`, { userId: ALICE });
    expect(messageText(await h.response(refused.id))).toContain('SLACK_ADMINS');
    const unbound = await h.command(`cert deploy ${WWW}`, { userId: BOB });
    expect(messageText(await h.response(unbound.id))).toContain('bound to no BIG-IP profile');
    expect(h.coreCalls.calls).not.toContain('deploys.deploy');

    await core.services.devices.add(
      { name: 'lb-1', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
      'test',
    );
    await core.services.bindings.add({ certificate: WWW, device: 'lb-1', profile: 'acme_www' }, 'test');
    const res = await h.command(`cert deploy ${WWW}`, { userId: BOB });
    expect(messageText(await h.response(res.id))).toContain('Deploying');
    const done = await until('the deploy result', () =>
      h.stub.responses(res.id).find((r) => messageText(r).includes('Deployed')),
    );
    expect(messageText(done)).toContain('*lb-1* succeeded');
    const shown = messageText(await h.response((await h.command(`cert show ${WWW}`, { userId: ALICE })).id));
    expect(shown).toContain('/Common/acme_www');
  });

  it('never sends the passphrase to Slack', () => {
    expect(h.stub.calls.length).toBeGreaterThan(0);
    for (const call of h.stub.calls) expect(call.body).not.toContain(PASSPHRASE);
    expect(JSON.stringify(h.stub.calls)).not.toContain(encodeURIComponent(PASSPHRASE));
  });
});
