import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createNotifier,
  type NotifierClient,
  RETRY_DELAYS_MS,
  retryDelayMs,
  type WakeSource,
} from '../../bot/notifier.ts';
import { startSlackNotifier } from '../../cli/slack-notifier.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import type { AcmeGateway } from '../../core/ports/acme-gateway.ts';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import { CoreError } from '../../core/errors.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { type CoreServices, createCoreServices } from '../../core/services/index.ts';
import { createSecretBox, type SecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';
import { type SlackStub, startSlackStub } from './bot-harness.ts';

/**
 * The notifier wakes on the event, not on its poll: every test here sets the poll to a minute and expects
 * the message within a few seconds. (The measured latency is in bench/notify-latency.ts, not asserted.)
 */
const POLL_MS = 60_000;
/** Far below the poll, far above the expected ~0.2 s: proves the wake without timing it. */
const WAIT_MS = 5_000;

/** A CA that is down: every call fails as a network outage does (retryable). */
const acmeDown = new Proxy({} as AcmeGateway, {
  get(_t, prop) {
    if (prop === 'then') return undefined;
    return async () => {
      throw new CoreError(
        'acme_unreachable',
        `cannot reach the CA at https://acme.example to ${String(prop)}: ECONNREFUSED`,
        { retryable: true },
      );
    };
  },
});

async function until(check: () => boolean | Promise<boolean>, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Counts outbox reads: one per notifier run. */
function countingStore(store: Store) {
  const stats = { reads: 0 };
  const events = {
    ...store.events,
    async listUndelivered(limit: number) {
      stats.reads++;
      return store.events.listUndelivered(limit);
    },
  };
  return { store: { ...store, events }, stats };
}

for (const target of databaseTargets) {
  describe(`notifier wakes on new events (${target.kind})`, () => {
    let database: Database;
    let store: Store;
    let secrets: SecretBox;
    let services: CoreServices;
    let stub: SlackStub;
    let stopNotifier: (() => Promise<void>) | null = null;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      store = createDrizzleStore(database);
      secrets = createSecretBox(randomBytes(32).toString('base64'));
      services = createCoreServices({ ...deployCoreDeps(store, secrets), acme: acmeDown });
      stub = await startSlackStub();
    });
    afterAll(async () => {
      await stub?.close();
      await database?.close();
    });
    beforeEach(async () => {
      await truncateAll(database);
      stub.calls.length = 0;
      stub.clearOverrides();
      const counted = countingStore(store);
      const notifier = await startSlackNotifier(
        { store: counted.store, database },
        { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: `${stub.url}/api/`, SLACK_NOTIFY_CHANNEL: 'C0NOTIFY' },
        silentLogger,
        {
          pollMs: POLL_MS,
        },
      );
      stopNotifier = () => notifier.stop();
      // The run at start has read the (empty) outbox: from here on only a wake (or the poll, a minute away)
      // can deliver what a test writes.
      await until(() => counted.stats.reads === 1);
    });
    afterEach(async () => {
      await stopNotifier?.();
      stopNotifier = null;
    });

    /** A certificate under a profile with a real sealed account key, so the core can get as far as the CA. */
    async function seedCertificate(profileOverrides: Parameters<typeof makeProfile>[0] = {}) {
      const id = randomUUID();
      const accountKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const profile = makeProfile({
        id,
        accountKeySealed: secrets.seal(accountKeyPem, secretAad('profiles', id, 'account_key')),
        ...profileOverrides,
      });
      await store.profiles.insert(profile);
      return seedIssuedCertificate(store, secrets, {
        profileId: profile.id,
        names: [`${randomUUID().slice(0, 8)}.example.com`],
      });
    }

    it('posts an approval requested through the core within seconds, not at the next poll', async () => {
      const cert = await seedCertificate();
      const approval = await services.approvals.request(
        'renewal',
        cert,
        { names: [cert.commonName], serial: cert.serial },
        'scheduler',
      );

      const [posted] = await stub.waitForApi('chat.postMessage', 1, WAIT_MS);
      expect(posted).toMatchObject({ channel: 'C0NOTIFY' });
      expect(JSON.stringify(posted)).toContain(approval.id);
      await until(async () => (await store.events.listUndelivered(10)).length === 0);
    });

    it('posts a renewal failure (a CA outage during the renew sweep) within seconds', async () => {
      const cert = await seedCertificate();
      await store.certificates.update(cert.id, { renewAt: new Date(Date.now() - 60_000) });
      const report = await services.renewals.sweep();
      expect(report.failed).toEqual([expect.objectContaining({ name: cert.name, code: 'acme_unreachable' })]);

      const [posted] = await stub.waitForApi('chat.postMessage', 1, WAIT_MS);
      expect(posted!['text']).toBe(`Renewal of ${cert.name} failed`);
      // The renewal_due that came with it is a success: it waits for the hourly digest.
      await until(async () => (await store.events.listUndelivered(10)).length === 1);
      expect((await store.events.listUndelivered(10)).map((e) => e.kind)).toEqual(['renewal_due']);
    });

    it('after a 429 with Retry-After 1 tries again after that second, long before the poll', async () => {
      stub.rateLimitNext('chat.postMessage', 1);
      const cert = await seedCertificate();
      await services.approvals.request('renewal', cert, { names: [cert.commonName], serial: cert.serial }, 'scheduler');

      await stub.waitForApi('chat.postMessage', 2, WAIT_MS);
      const [refused, accepted] = stub.calls.filter((c) => c.path === '/api/chat.postMessage');
      expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(1_000);
      await until(async () => (await store.events.listUndelivered(10)).length === 0);
    });

    it('a duplicate event (same dedupe key) is neither stored nor announced twice', async () => {
      const event = {
        kind: 'renewal_failed' as const,
        certificateId: null,
        subject: 'dup.example.com',
        dedupeKey: 'dup:1',
        detail: { code: 'x', message: 'y', attempt: 1 },
        needsPerson: true,
      };
      expect(await store.events.emit(event)).toBe(true);
      expect(await store.events.emit(event)).toBe(false);
      await stub.waitForApi('chat.postMessage', 1, WAIT_MS);
      expect(stub.api('chat.postMessage')).toHaveLength(1);
    });
  });
}

/** The notifier's scheduling against a fake wake port and a fake Slack client (real store on PGlite). */
describe('notifier scheduling', () => {
  let database: Database;
  let store: Store;
  const pglite = databaseTargets[0]!;

  beforeAll(async () => {
    database = await freshDatabase(pglite.open);
    store = createDrizzleStore(database);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await truncateAll(database);
  });

  function fakeWake() {
    const listeners = new Set<() => void>();
    let unsubscribed = 0;
    const wake: WakeSource = async (onWake) => {
      listeners.add(onWake);
      return async () => {
        listeners.delete(onWake);
        unsubscribed++;
      };
    };
    return {
      wake,
      fire: () => {
        for (const l of listeners) l();
      },
      get listening() {
        return listeners.size;
      },
      get unsubscribed() {
        return unsubscribed;
      },
    };
  }

  /** A Slack client whose answers a test scripts; it records every text posted. */
  function scriptedSlack(answer: (n: number) => Promise<unknown> | unknown = () => null) {
    const texts: string[] = [];
    let calls = 0;
    const client: NotifierClient = {
      chat: {
        async postMessage(args) {
          calls++;
          const err = await answer(calls);
          if (err) throw err;
          texts.push(args.text);
          return { ok: true };
        },
      },
    };
    return {
      client,
      texts,
      get calls() {
        return calls;
      },
    };
  }

  let seq = 0;
  const emit = (subject: string) =>
    store.events.emit({
      kind: 'renewal_failed',
      certificateId: null,
      subject,
      dedupeKey: `${subject}:${++seq}`,
      detail: { code: 'x', message: 'y', attempt: 1 },
      needsPerson: true,
    } satisfies Omit<CoreEvent, 'id' | 'createdAt' | 'deliveredAt'>);

  it('a burst of wakes is one run (debounced), and stop unsubscribes', async () => {
    const wake = fakeWake();
    const counted = countingStore(store);
    const slack = scriptedSlack();
    const notifier = createNotifier({
      outbox: createOutboxService({ store: counted.store, clock: systemClock, log: silentLogger }),
      client: slack.client,
      channel: 'C',
      clock: systemClock,
      log: silentLogger,
      spacingMs: 0,
      wake: wake.wake,
      debounceMs: 100,
    });
    await notifier.start(POLL_MS);
    expect(wake.listening).toBe(1);
    await until(() => counted.stats.reads === 1); // the run at start

    for (let i = 0; i < 5; i++) await emit(`burst-${i}.example.com`);
    for (let i = 0; i < 5; i++) wake.fire();
    await until(() => slack.texts.length === 5);
    expect(counted.stats.reads).toBe(2);

    await notifier.stop();
    expect(wake.unsubscribed).toBe(1);
    expect(wake.listening).toBe(0);
  });

  it('never runs twice at once: a wake during a run brings one more run after it', async () => {
    const wake = fakeWake();
    const counted = countingStore(store);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let inFlight = 0;
    let maxInFlight = 0;
    const slack = scriptedSlack(async (n) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (n === 1) await gate; // the first post hangs until released
      inFlight--;
      return null;
    });
    const notifier = createNotifier({
      outbox: createOutboxService({ store: counted.store, clock: systemClock, log: silentLogger }),
      client: slack.client,
      channel: 'C',
      clock: systemClock,
      log: silentLogger,
      spacingMs: 0,
      wake: wake.wake,
      debounceMs: 10,
    });
    await emit('first.example.com');
    await notifier.start(POLL_MS);
    await until(() => slack.calls === 1);

    // While the first run hangs on Slack: a new event and many wakes.
    await emit('second.example.com');
    for (let i = 0; i < 3; i++) wake.fire();
    await new Promise((r) => setTimeout(r, 100));
    expect(counted.stats.reads).toBe(1);

    release();
    await until(() => slack.texts.length === 2);
    expect(slack.texts).toEqual(['Renewal of first.example.com failed', 'Renewal of second.example.com failed']);
    expect(maxInFlight).toBe(1);
    await notifier.stop();
  });

  it('after another Slack error retries after a short backoff, without a wake or the poll', async () => {
    const slack = scriptedSlack((n) =>
      n === 1 ? { code: 'slack_webapi_request_error', message: 'socket hang up' } : null,
    );
    const notifier = createNotifier({
      outbox: createOutboxService({ store, clock: systemClock, log: silentLogger }),
      client: slack.client,
      channel: 'C',
      clock: systemClock,
      log: silentLogger,
      spacingMs: 0,
    });
    await emit('flaky.example.com');
    const started = Date.now();
    await notifier.start(POLL_MS);
    await until(() => slack.texts.length === 1);
    expect(slack.calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]!);
    await notifier.stop();
  });

  it('starts although it cannot listen, and still delivers (the run at start, then the poll)', async () => {
    const slack = scriptedSlack();
    const notifier = createNotifier({
      outbox: createOutboxService({ store, clock: systemClock, log: silentLogger }),
      client: slack.client,
      channel: 'C',
      clock: systemClock,
      log: silentLogger,
      spacingMs: 0,
      wake: async () => {
        throw new Error('LISTEN failed');
      },
    });
    await emit('polled.example.com');
    await notifier.start(POLL_MS);
    await until(() => slack.texts.length === 1);
    await notifier.stop();
  });
});

describe('retryDelayMs', () => {
  const table: { failures: number; pollMs: number; ms: number }[] = [
    { failures: 1, pollMs: 30_000, ms: 1_000 },
    { failures: 2, pollMs: 30_000, ms: 2_000 },
    { failures: 3, pollMs: 30_000, ms: 5_000 },
    { failures: 4, pollMs: 30_000, ms: 10_000 },
    { failures: 5, pollMs: 30_000, ms: 30_000 },
    { failures: 50, pollMs: 30_000, ms: 30_000 },
    { failures: 4, pollMs: 3_000, ms: 3_000 },
    { failures: 0, pollMs: 30_000, ms: 1_000 },
  ];
  for (const row of table) {
    it(`${row.failures} failure(s), poll ${row.pollMs} ms → ${row.ms} ms`, () => {
      expect(retryDelayMs(row.failures, row.pollMs)).toBe(row.ms);
    });
  }
});
