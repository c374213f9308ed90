import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalState } from '../../core/domain/approval.ts';
import type { CaProfile } from '../../core/domain/ca-profile.ts';
import type { CertificateState } from '../../core/domain/managed-certificate.ts';
import { CoreError } from '../../core/errors.ts';
import { systemClock } from '../../core/ports/clock.ts';
import type { AcmeGateway } from '../../core/ports/acme-gateway.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox, type SecretBox } from '../../core/secrets/secret-box.ts';
import { type CoreDeps, secretAad } from '../../core/services/core-deps.ts';
import { type CoreServices, createCoreServices } from '../../core/services/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { unused } from '../bigip/deploy-harness.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { truncateAll } from '../support/test-db.ts';

/**
 * The issuance gate: a certificate requested with `approval: true` is stored and waits; `resume` orders it
 * only once its approval is granted. The CA is a fake that records `newOrder` and then refuses, so "ordered"
 * and "not ordered" are visible without a CA.
 */
let database: Database;
let store: Store;
let services: CoreServices;
let profile: CaProfile;
let secrets: SecretBox;
const orders: string[][] = [];
const PASSPHRASE = 'correct horse battery';
const ALICE = 'slack:U0ALICE';
const BOB = 'slack:U0BOB';

const offlineCa = new Proxy({} as AcmeGateway, {
  get(_t, prop) {
    if (prop === 'newOrder') {
      return async (_account: unknown, names: string[]) => {
        orders.push(names);
        throw new CoreError('acme_unreachable', 'the test CA is offline', { retryable: true });
      };
    }
    throw new Error(`acme.${String(prop)} is not used by the issuance gate tests`);
  },
});

beforeAll(async () => {
  database = await openDatabase({ memory: true });
  await database.migrate();
  store = createDrizzleStore(database);
  secrets = createSecretBox(randomBytes(32).toString('base64'));
  const deps: CoreDeps = {
    store,
    acme: offlineCa,
    probe: unused('probe'),
    endpoints: unused('endpoints'),
    propagation: unused('propagation'),
    dnsUpdates: unused('dnsUpdates'),
    acmeDns: unused('acmeDns'),
    bigip: unused('bigip'),
    secrets,
    clock: systemClock,
    log: silentLogger,
    newId: randomUUID,
  };
  services = createCoreServices(deps, { approvers: [ALICE, BOB] });
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  await truncateAll(database);
  orders.length = 0;
  const id = randomUUID();
  profile = makeProfile({
    id,
    name: 'gated',
    keySpec: 'ec-p256',
    accountKeySealed: secrets.seal('not a real key', secretAad('profiles', id, 'account_key')),
  });
  await store.profiles.insert(profile);
  for (const name of ['www.example.com', 'api.example.com']) {
    const domain = makeDomain(profile.id, { id: randomUUID(), name, status: 'valid' });
    await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id, { id: randomUUID() }));
  }
});

async function requestGated(name = 'www.example.com') {
  return services.certificates.request(
    { profile: 'gated', commonName: name, sans: ['api.example.com'], passphrase: PASSPHRASE },
    ALICE,
    undefined,
    { approval: true },
  );
}

describe('request with approval', () => {
  it('stores the request, asks once for an approval built from server-side state, and orders nothing', async () => {
    const cert = await requestGated();
    expect(cert.state).toBe('requested');
    expect(orders).toEqual([]);
    const pending = await services.approvals.list('pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      kind: 'issuance',
      certificateName: 'www.example.com',
      requestedBy: ALICE,
      summary: {
        names: ['www.example.com', 'api.example.com'],
        profile: 'gated',
        partition: 'Common',
        keySpec: 'ec-p256',
        objectName: 'www.example.com',
      },
    });
    const events = await store.events.list({ certificateId: cert.id });
    expect(events.map((e) => e.kind)).toEqual(['approval_requested']);
    const audit = (await store.audit.list({ objectId: cert.id })).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['certificate.request', 'approval.request']));
    // The passphrase is sealed on the row and nowhere else in clear.
    const everything = JSON.stringify([pending, events, await store.audit.list({ objectId: cert.id })]);
    expect(everything).not.toContain(PASSPHRASE);
  });

  it('validates exactly as without approval: nothing is stored from a bad request', async () => {
    const bad = [
      { input: { partition: 'no spaces' }, code: 'input_invalid' },
      { input: { commonName: 'other.example.net' }, code: 'domain_foreign' },
      { input: { passphrase: 'abc' }, code: 'input_invalid' },
      { input: { keySpec: 'rsa-2048' as const }, code: 'key_mismatch' },
      { input: { name: '9starts-with-digit' }, code: 'input_invalid' },
    ];
    for (const { input, code } of bad) {
      await expect(
        services.certificates.request({ profile: 'gated', commonName: 'www.example.com', ...input }, ALICE, undefined, {
          approval: true,
        }),
        JSON.stringify(input),
      ).rejects.toMatchObject({ code });
    }
    expect(await store.certificates.list()).toEqual([]);
    expect(await store.approvals.list()).toEqual([]);
  });

  it('without the option, orders at once as before (no approval involved)', async () => {
    await expect(
      services.certificates.request({ profile: 'gated', commonName: 'www.example.com' }, ALICE),
    ).rejects.toMatchObject({ code: 'acme_unreachable' });
    expect(orders).toEqual([['www.example.com']]);
    expect(await store.approvals.list()).toEqual([]);
  });
});

describe('resume behind the issuance gate', () => {
  /** Puts the certificate's issuance approval into `state` (null: requested without approval). */
  async function gated(state: ApprovalState | null, certState: CertificateState = 'requested') {
    const cert =
      state === null
        ? await services.certificates
            .request({ profile: 'gated', commonName: 'www.example.com', name: 'ungated' }, ALICE)
            .catch(async () => store.certificates.findByName('ungated'))
        : await requestGated();
    orders.length = 0;
    const approval = state === null ? null : (await store.approvals.findOpen(cert!.id, 'issuance'))!;
    if (approval && state !== null && state !== 'pending') {
      await store.approvals.transition(approval.id, 'pending', {
        state: state === 'used' ? 'approved' : state,
        decidedBy: BOB,
        decidedAt: new Date(),
        reason: state === 'denied' ? 'not this week' : null,
      });
      if (state === 'used') await store.approvals.transition(approval.id, 'approved', { state: 'used' });
    }
    await store.certificates.update(cert!.id, { state: certState });
    return { name: cert!.name, id: cert!.id, approvalId: approval?.id ?? null };
  }

  const cases: {
    approval: ApprovalState | null;
    certState?: CertificateState;
    expect: 'orders' | RegExp | 'asks again';
    approvalAfter?: ApprovalState;
  }[] = [
    { approval: null, expect: 'orders' },
    { approval: 'pending', expect: /is waiting for approval .*requested by slack:U0ALICE/ },
    { approval: 'approved', expect: 'orders', approvalAfter: 'used' },
    { approval: 'used', expect: 'orders', approvalAfter: 'used' },
    { approval: 'used', certState: 'failed', expect: 'orders', approvalAfter: 'used' },
    { approval: 'denied', certState: 'failed', expect: 'asks again', approvalAfter: 'denied' },
    {
      approval: 'denied',
      certState: 'requested',
      expect: /was denied by slack:U0BOB: not this week; nothing was ordered/,
    },
  ];

  for (const c of cases) {
    it(`approval ${c.approval ?? 'none'}, certificate ${c.certState ?? 'requested'} → ${c.expect}`, async () => {
      const { name, id, approvalId } = await gated(c.approval, c.certState);
      const resumed = services.certificates.resume(name, BOB);
      if (c.expect === 'orders') {
        await expect(resumed).rejects.toMatchObject({ code: 'acme_unreachable' });
        expect(orders).toHaveLength(1);
      } else if (c.expect === 'asks again') {
        const view = await resumed;
        expect(view.state).toBe('requested');
        expect(view.problem).toBeNull();
        expect(orders).toEqual([]);
        const open = await store.approvals.findOpen(id, 'issuance');
        expect(open).toMatchObject({ state: 'pending', requestedBy: BOB });
        expect(open!.id).not.toBe(approvalId);
        expect(await store.approvals.findLatest(id, 'issuance')).toMatchObject({ id: open!.id });
      } else {
        await expect(resumed).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(c.expect) });
        expect(orders).toEqual([]);
      }
      if (approvalId && c.approvalAfter)
        expect((await store.approvals.findById(approvalId))?.state).toBe(c.approvalAfter);
    });
  }

  it('a denial fails the certificate, naming who denied and why; the requester cannot decide', async () => {
    const cert = await requestGated();
    const [approval] = await services.approvals.list('pending');
    await expect(services.approvals.approve(approval!.id, ALICE)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(
        /slack:U0ALICE requested certificate "www.example.com" and cannot decide its issuance/,
      ),
    });
    await services.approvals.deny(approval!.id, BOB, 'wrong names');
    const row = (await store.certificates.findById(cert.id))!;
    expect(row).toMatchObject({
      state: 'failed',
      problem: { type: 'issuance_denied', detail: 'issuance denied by slack:U0BOB: wrong names' },
    });
    expect(row.nextAttemptAt).toBeNull();
    expect(orders).toEqual([]);
  });

  it('approve then resume orders exactly once: the approval is taken, a second resume finds it used', async () => {
    const cert = await requestGated();
    const [approval] = await services.approvals.list('pending');
    await services.approvals.approve(approval!.id, BOB);
    await expect(services.certificates.resume(cert.name, BOB)).rejects.toMatchObject({ code: 'acme_unreachable' });
    expect((await store.approvals.findById(approval!.id))?.state).toBe('used');
    expect(orders).toHaveLength(1);
  });

  it('a resume that loses the approval to another (read approved, taken before it could) orders nothing', async () => {
    const cert = await requestGated();
    const [approval] = await services.approvals.list('pending');
    await services.approvals.approve(approval!.id, BOB);
    // The other resume takes the approval between this one's read and its compare-and-set.
    const findOpen = store.approvals.findOpen.bind(store.approvals);
    store.approvals.findOpen = async (...args) => {
      const found = await findOpen(...args);
      await store.approvals.transition(approval!.id, 'approved', { state: 'used' });
      return found;
    };
    try {
      await expect(services.certificates.resume(cert.name, BOB)).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(/being issued by another request/),
      });
    } finally {
      store.approvals.findOpen = findOpen;
    }
    expect(orders).toEqual([]);
  });
});

describe('approve and issue, the use case every edge calls', () => {
  it('approving an issuance orders it at once: the approval is taken and the order placed', async () => {
    const cert = await requestGated();
    const [approval] = await services.approvals.list('pending');
    const lines: string[] = [];
    await expect(
      services.approveAndIssue.approveAndIssue(approval!.id, BOB, (l) => lines.push(l)),
    ).rejects.toMatchObject({ code: 'acme_unreachable' });
    expect(orders).toEqual([[cert.name, 'api.example.com']]);
    expect((await store.approvals.findById(approval!.id))?.state).toBe('used');
    expect(lines.join('\n')).toContain('creating an order');
  });

  it('the decision is in before issuing starts: approve hands back the issuing as work, nothing ordered yet', async () => {
    await requestGated();
    const [approval] = await services.approvals.list('pending');
    const approved = await services.approveAndIssue.approve(approval!.id, BOB);
    expect(approved.approval).toMatchObject({ kind: 'issuance', state: 'approved', decidedBy: BOB });
    expect(approved.issue).not.toBeNull();
    expect(orders).toEqual([]);
  });

  it('a renewal approval is decided and left to the scheduler: no work, nothing ordered', async () => {
    const cert = await requestGated();
    const renewal = await services.approvals.requestForScheduler(
      'renewal',
      (await store.certificates.findById(cert.id))!,
      {},
    );
    const done = await services.approveAndIssue.approveAndIssue(renewal.id, BOB);
    expect(done).toMatchObject({ approval: { kind: 'renewal', state: 'approved' }, certificate: null });
    expect(orders).toEqual([]);
  });

  it('a refused decision issues nothing: the requester cannot approve their own issuance', async () => {
    await requestGated();
    const [approval] = await services.approvals.list('pending');
    await expect(services.approveAndIssue.approveAndIssue(approval!.id, ALICE)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(orders).toEqual([]);
    expect((await store.approvals.findById(approval!.id))?.state).toBe('pending');
  });
});
