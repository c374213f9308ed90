import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { APPROVE_ACTION, DENY_ACTION } from '../../bot/blocks/approval.ts';
import { digestMessage, eventMessage, scrubSecrets } from '../../bot/blocks/notification.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { createNotifier, type NotifierClient } from '../../bot/notifier.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import { type ExpiryCandidate, expiryWarningEvent, expiryWarnings } from '../../core/domain/expiry-warning.ts';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import type { Clock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { truncateAll } from '../support/test-db.ts';

// A real WebClient must fit the notifier's client type (compile-time check).
const _webClientFits: (c: webApi.WebClient) => NotifierClient = (c) => c;
void _webClientFits;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Starts at the real time (the outbox stamps createdAt with the database's clock); sleep only advances it. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let t = Date.now();
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
    advance(ms) {
      t += ms;
    },
  };
}

interface Posted {
  channel: string;
  text: string;
  blocks: unknown[];
}

/** A stand-in for `client.chat.postMessage`; `fail` decides per call whether (and how) it throws. */
function fakeSlack() {
  const posted: Posted[] = [];
  let fail: ((n: number) => unknown) | null = null;
  let calls = 0;
  const client: NotifierClient = {
    chat: {
      async postMessage(args) {
        calls++;
        const err = fail?.(calls);
        if (err) throw err;
        posted.push({ channel: args.channel, text: args.text, blocks: args.blocks ?? [] });
        return { ok: true };
      },
    },
  };
  return {
    client,
    posted,
    get calls() {
      return calls;
    },
    failWith(f: ((n: number) => unknown) | null) {
      fail = f;
    },
  };
}

let database: Database;
let store: Store;

beforeAll(async () => {
  database = await openDatabase({ memory: true });
  await database.migrate();
  store = createDrizzleStore(database);
});
afterAll(async () => {
  await store.close();
});

let seq = 0;
async function emit(kind: CoreEvent['kind'], subject: string, detail: Record<string, unknown>, needsPerson: boolean) {
  await store.events.emit({
    kind,
    certificateId: null,
    subject,
    dedupeKey: `${subject}:${kind}:${++seq}`,
    detail,
    needsPerson,
  });
}

async function seedMixed() {
  await emit(
    'renewed',
    'www.example.com',
    { previousSerial: '01', serial: '02', notAfter: '2027-03-01T00:00:00.000Z' },
    false,
  );
  await emit(
    'renewal_failed',
    'api.example.com',
    { code: 'acme_order_invalid', message: 'the CA rejected the order', attempt: 3 },
    true,
  );
  await emit(
    'deployed',
    'www.example.com',
    { device: 'bigip-1', serial: '02', result: 'ok', step: 'done', outcome: 'installed' },
    false,
  );
  await emit(
    'deploy_failed',
    'shop.example.com',
    { device: 'bigip-2', serial: '05', result: 'failed', step: 'upload', outcome: 'error', error: 'bigip_unreachable' },
    true,
  );
  await emit(
    'approval_decided',
    'www.example.com',
    { approvalId: 'a1', kind: 'deploy', decision: 'approved', by: 'U123', day: '2026-11-26' },
    false,
  );
}

const notifierFor = (slack: ReturnType<typeof fakeSlack>, clock: Clock, extra: { digestIntervalMs?: number } = {}) =>
  createNotifier({
    outbox: createOutboxService({ store, clock, log: silentLogger }),
    client: slack.client,
    channel: 'C0NOTIFY',
    clock,
    log: silentLogger,
    ...extra,
  });

describe('notifier', () => {
  beforeEach(async () => {
    await truncateAll(database);
  });

  it('posts failures individually at once, marks them delivered, and holds successes for the digest', async () => {
    await seedMixed();
    const clock = fakeClock();
    const slack = fakeSlack();
    const notifier = notifierFor(slack, clock);

    expect(await notifier.runOnce()).toEqual({ posted: 2, digested: 0 });
    expect(slack.posted.map((p) => p.text)).toEqual([
      'Renewal of api.example.com failed',
      'Deploying shop.example.com failed',
    ]);
    expect(slack.posted.every((p) => p.channel === 'C0NOTIFY')).toBe(true);
    const left = await store.events.listUndelivered(100);
    expect(left.map((e) => e.kind)).toEqual(['renewed', 'deployed', 'approval_decided']);

    // Nothing new: a second run posts nothing.
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(slack.posted).toHaveLength(2);
  });

  it('collects successes into one digest after the digest interval, then posts nothing again', async () => {
    await seedMixed();
    const clock = fakeClock();
    const slack = fakeSlack();
    const notifier = notifierFor(slack, clock);
    await notifier.runOnce();
    clock.advance(HOUR + 1000);

    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 3 });
    expect(slack.posted).toHaveLength(3);
    const digest = JSON.stringify(slack.posted[2]!.blocks);
    expect(slack.posted[2]!.text).toBe('bigip-acme: 3 updates');
    expect(digest).toContain('renewed');
    expect(digest).toContain('deployed to bigip-1');
    expect(digest).toContain('approved by U123');
    expect(await store.events.listUndelivered(100)).toEqual([]);

    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    clock.advance(2 * HOUR);
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(slack.posted).toHaveLength(3);
  });

  it('a restart (a new notifier on the same store) posts nothing already delivered', async () => {
    await seedMixed();
    const clock = fakeClock();
    const first = fakeSlack();
    await notifierFor(first, clock).runOnce();
    clock.advance(HOUR + 1000);
    await notifierFor(first, clock).runOnce();
    expect(first.posted).toHaveLength(3);

    const second = fakeSlack();
    const restarted = notifierFor(second, clock);
    expect(await restarted.runOnce()).toEqual({ posted: 0, digested: 0 });
    clock.advance(2 * HOUR);
    expect(await restarted.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(second.calls).toBe(0);

    // Only new events go out after the restart.
    await emit('challenge_expired', 'new.example.com', { profile: 'le-prod', type: 'dns' }, true);
    expect(await restarted.runOnce()).toEqual({ posted: 1, digested: 0 });
    expect(second.posted[0]!.text).toBe('Challenge content for new.example.com expired');
  });

  it('on a rate limit stops, leaves events undelivered, waits retryAfter, then delivers them', async () => {
    await seedMixed();
    const clock = fakeClock();
    const slack = fakeSlack();
    const notifier = notifierFor(slack, clock);
    // The first post goes through, the second is rate limited (the error web-api throws).
    slack.failWith((n) => (n === 2 ? new webApi.WebAPIRateLimitedError(30) : null));

    expect(await notifier.runOnce()).toEqual({ posted: 1, digested: 0 });
    expect((await store.events.listUndelivered(100)).map((e) => e.kind)).toContain('deploy_failed');
    slack.failWith(null);

    // Before retryAfter: not a single call to Slack.
    const callsBefore = slack.calls;
    clock.advance(10_000);
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(slack.calls).toBe(callsBefore);

    clock.advance(21_000);
    expect(await notifier.runOnce()).toEqual({ posted: 1, digested: 0 });
    expect(slack.posted.map((p) => p.text)).toEqual([
      'Renewal of api.example.com failed',
      'Deploying shop.example.com failed',
    ]);
  });

  it('on another Slack error logs the code only, leaves the event undelivered, and retries next run', async () => {
    await emit(
      'renewal_failed',
      'api.example.com',
      { code: 'acme_order_invalid', message: 'rejected', attempt: 1 },
      true,
    );
    const clock = fakeClock();
    const slack = fakeSlack();
    const logged: Record<string, unknown>[] = [];
    const log = { ...silentLogger, warn: (fields: Record<string, unknown>) => logged.push(fields) };
    const notifier = createNotifier({
      outbox: createOutboxService({ store, clock, log }),
      client: slack.client,
      channel: 'C0NOTIFY',
      clock,
      log,
    });
    slack.failWith(() =>
      Object.assign(new Error('An API error occurred: internal_error'), {
        code: 'slack_webapi_platform_error',
        data: { ok: false, error: 'internal_error' },
      }),
    );

    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(await store.events.listUndelivered(10)).toHaveLength(1);
    expect(logged).toEqual([
      { code: 'slack_webapi_platform_error', error: 'internal_error', what: 'renewal_failed', waiting: 1 },
    ]);

    slack.failWith(null);
    expect(await notifier.runOnce()).toEqual({ posted: 1, digested: 0 });
    expect(await store.events.listUndelivered(10)).toHaveLength(0);
  });

  it('a real WebClient throws the rate-limit error the notifier expects when rejectRateLimitedCalls is set', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new webApi.WebClient('xoxb-test', {
        slackApiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: webApi.LogLevel.ERROR,
      });
      await emit('renewal_failed', 'api.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
      const clock = fakeClock();
      const notifier = createNotifier({
        outbox: createOutboxService({ store, clock, log: silentLogger }),
        client,
        channel: 'C0NOTIFY',
        clock,
        log: silentLogger,
      });
      expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
      const err = await client.chat.postMessage({ channel: 'C', text: 't' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
      expect(await store.events.listUndelivered(10)).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('posts a digest early when a full batch is all successes, within Slack limits', async () => {
    for (let i = 0; i < 30; i++)
      await emit('deployed', `host-${i}.example.com`, { device: 'bigip-1', serial: String(i) }, false);
    const clock = fakeClock();
    const slack = fakeSlack();
    const notifier = createNotifier({
      outbox: createOutboxService({ store, clock, log: silentLogger }),
      client: slack.client,
      channel: 'C0NOTIFY',
      clock,
      log: silentLogger,
      batchSize: 20,
    });
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 20 });
    expect(await store.events.listUndelivered(100)).toHaveLength(10);
  });
});

describe('notification blocks', () => {
  const at = new Date('2026-11-26T10:00:00Z');
  const ev = (kind: string, detail: Record<string, unknown>, subject = 'www.example.com') => ({
    kind,
    subject,
    detail,
    needsPerson: true,
    createdAt: at,
  });

  it('digests truncate within the block and size limits with "… and N more"', () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      ev('renewed', { serial: `${i}`.padStart(40, '0'), notAfter: '2027-01-01T00:00:00Z' }, `host-${i}.example.com`),
    );
    const msg = digestMessage(many);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(msg.blocks).length).toBeLessThan(13_000);
    const last = JSON.stringify(msg.blocks.at(-1));
    expect(last).toMatch(/… and \d+ more/);
  });

  it('a revocation says the serial, reason, who, and what happens to what the BIG-IPs serve', () => {
    const text = (detail: Record<string, unknown>, needsPerson: boolean) =>
      JSON.stringify(eventMessage({ ...ev('revoked', detail), needsPerson }));
    const base = { serial: '0abc', reason: 'keyCompromise', by: 'slack:U1' };
    const replaced = text({ ...base, replacementSerial: '0def', stillServed: false }, false);
    expect(replaced).toContain(':no_entry: *www.example.com* was revoked at the CA');
    expect(replaced).toContain('*Serial:* `0abc`\\n*Reason:* keyCompromise\\n*By:* slack:U1\\n*Replacement:* `0def`');
    expect(replaced).toContain('The replacement was deployed before the revocation.');
    expect(text({ ...base, stillServed: true }, false)).toContain('the next renew run replaces it');
    expect(text({ ...base, stillServed: true }, true)).toContain('A person has to act on this.');
    expect(text({ ...base, stillServed: false }, false)).toContain('Nothing is bound to it.');
  });

  it('escapes mrkdwn in subjects and detail fields', () => {
    const msg = eventMessage(
      ev('renewal_failed', { code: 'x', message: '<!channel> & <https://evil|click>' }, '<@U1>.example.com'),
    );
    const json = JSON.stringify(msg);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U1>');
    expect(json).toContain('&lt;!channel&gt; &amp;');
  });

  it('never passes key material, passwords or EAB keys into a message', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const poisoned = {
      code: 'acme_error',
      message: `upload failed: ${pem} password=hunter2 eab hmac_key: c2VjcmV0LWVhYi1rZXk token xoxb-1234-abcd`,
      error: `passphrase: s3cr3t ${pem}`,
      privateKey: pem,
      accountKey: pem,
      password: 'hunter2',
      eabHmacKey: 'c2VjcmV0LWVhYi1rZXk',
      device: { password: 'hunter2' },
      names: ['a.example.com', pem],
      reason: 'password=hunter2',
      by: 'U1 secret=topsecret',
    };
    for (const kind of [
      'renewal_failed',
      'deploy_failed',
      'challenge_expired',
      'approval_requested',
      'expiry_warning',
      'renewal_due',
      'renewed',
      'deployed',
      'approval_decided',
      'revoked',
      'something_new',
    ]) {
      const json = JSON.stringify([eventMessage(ev(kind, poisoned)), digestMessage([ev(kind, poisoned)])]);
      expect(json, kind).not.toMatch(/BEGIN|END PRIVATE|MIIE/);
      expect(json, kind).not.toMatch(/hunter2|s3cr3t|c2VjcmV0|topsecret|xoxb-/);
      expect(json, kind).not.toContain('[object Object]');
    }
    expect(scrubSecrets('password: "a b c" and more')).toBe('password: [redacted] and more');
  });
});

describe('expiryWarnings', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const inDays = (d: number) => new Date(now.getTime() + d * DAY);
  const cand = (over: Partial<ExpiryCandidate['cert']> & { daysLeft: number }, autoRenew = true): ExpiryCandidate => {
    const { daysLeft, ...rest } = over;
    return {
      autoRenew,
      cert: {
        id: 'c1',
        name: 'www.example.com',
        serial: 'AB01',
        notBefore: null,
        notAfter: inDays(daysLeft),
        renewAt: inDays(daysLeft - 30),
        failedAttempts: 0,
        state: 'issued',
        ...rest,
      },
    };
  };

  const table: { name: string; c: ExpiryCandidate; threshold: number | null; reason?: string }[] = [
    { name: '30 days left, auto-renew off: nothing yet', c: cand({ daysLeft: 30 }, false), threshold: null },
    { name: '21 days left, auto-renew off', c: cand({ daysLeft: 21 }, false), threshold: 21, reason: 'auto_renew_off' },
    { name: '20 days left, auto-renew off', c: cand({ daysLeft: 20 }, false), threshold: 21, reason: 'auto_renew_off' },
    { name: '7 days left, auto-renew off', c: cand({ daysLeft: 7 }, false), threshold: 7, reason: 'auto_renew_off' },
    { name: '3 days left, auto-renew off', c: cand({ daysLeft: 3 }, false), threshold: 3, reason: 'auto_renew_off' },
    { name: 'expired, auto-renew off', c: cand({ daysLeft: -1 }, false), threshold: 3, reason: 'auto_renew_off' },
    {
      name: '21 days left, renewal scheduled before expiry: nothing',
      c: cand({ daysLeft: 21, renewAt: inDays(10) }),
      threshold: null,
    },
    {
      name: '21 days left, renewal due within the hour: nothing yet',
      c: cand({ daysLeft: 21, renewAt: new Date(now.getTime() - 30 * 60_000) }),
      threshold: null,
    },
    {
      name: '21 days left, renewal time 5 days past and still the same serial',
      c: cand({ daysLeft: 21, renewAt: inDays(-5) }),
      threshold: 21,
      reason: 'renewal_overdue',
    },
    {
      name: '5 days left, renewal time 20 days past',
      c: cand({ daysLeft: 5, renewAt: inDays(-20) }),
      threshold: 7,
      reason: 'renewal_overdue',
    },
    {
      name: '21 days left, renewal scheduled after expiry',
      c: cand({ daysLeft: 21, renewAt: inDays(30) }),
      threshold: 21,
      reason: 'renewal_after_expiry',
    },
    {
      name: 'a 6-day certificate gets no 21- or 7-day warning',
      c: cand({ daysLeft: 5, notBefore: inDays(-1), renewAt: inDays(2) }, false),
      threshold: null,
    },
    {
      name: 'a 6-day certificate with auto-renew off: the 3-day warning only',
      c: cand({ daysLeft: 2, notBefore: inDays(-4), renewAt: null }, false),
      threshold: 3,
      reason: 'auto_renew_off',
    },
    {
      name: '7 days left, no renewal scheduled',
      c: cand({ daysLeft: 7, renewAt: null }),
      threshold: 7,
      reason: 'no_renewal_scheduled',
    },
    {
      name: '7 days left, renewal failing',
      c: cand({ daysLeft: 7, renewAt: inDays(-20), failedAttempts: 2 }),
      threshold: 7,
      reason: 'renewal_failing',
    },
    {
      name: '3 days left, renewal failed for good',
      c: cand({ daysLeft: 3, state: 'failed' }),
      threshold: 3,
      reason: 'renewal_failing',
    },
    {
      name: '21 days left, failing',
      c: cand({ daysLeft: 21, failedAttempts: 1 }),
      threshold: 21,
      reason: 'renewal_failing',
    },
    { name: '30 days left, failing: not yet', c: cand({ daysLeft: 30, failedAttempts: 1 }), threshold: null },
    {
      name: '6 days left, waiting for challenge content',
      c: cand({ daysLeft: 6, state: 'awaiting_challenge' }),
      threshold: 7,
      reason: 'renewal_stuck',
    },
    { name: 'never issued (no serial)', c: cand({ daysLeft: 2, serial: null }, false), threshold: null },
  ];

  for (const row of table) {
    it(row.name, () => {
      const out = expiryWarnings([row.c], now);
      if (row.threshold === null) {
        expect(out).toEqual([]);
        return;
      }
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({
        threshold: row.threshold,
        reason: row.reason,
        dedupeKey: `c1:expiry_warning_${row.threshold}:AB01`,
      });
    });
  }

  it('warns once per threshold and serial: the key changes with the threshold and with a new serial', () => {
    const keys = [22, 21, 15, 7, 4, 3, 1].flatMap((d) =>
      expiryWarnings([cand({ daysLeft: d }, false)], now).map((w) => w.dedupeKey),
    );
    expect(new Set(keys)).toEqual(
      new Set(['c1:expiry_warning_21:AB01', 'c1:expiry_warning_7:AB01', 'c1:expiry_warning_3:AB01']),
    );
    expect(expiryWarnings([cand({ daysLeft: 7, serial: 'CD02' }, false)], now)[0]!.dedupeKey).toBe(
      'c1:expiry_warning_7:CD02',
    );
  });

  it('builds an outbox event with named facts only, and a message for it', () => {
    const [w] = expiryWarnings([cand({ daysLeft: 7 }, false)], now);
    const event = expiryWarningEvent(w!);
    expect(event).toMatchObject({
      kind: 'expiry_warning',
      certificateId: 'c1',
      subject: 'www.example.com',
      needsPerson: true,
      dedupeKey: 'c1:expiry_warning_7:AB01',
    });
    const msg = eventMessage({ ...event, createdAt: now });
    expect(msg.text).toBe('www.example.com expires in 7 days and is not renewing in time');
    expect(JSON.stringify(msg.blocks)).toContain('automatic renewal is off');
  });
});

describe('notifier: approval requests and messages Slack refuses', () => {
  beforeEach(async () => {
    await truncateAll(database);
  });

  async function pendingApproval() {
    const profile = makeProfile({ name: 'prod' });
    await store.profiles.insert(profile);
    const cert = makeCertificate(profile.id, {
      name: 'www.example.com',
      commonName: 'www.example.com',
      state: 'issued',
      serial: '0a1b',
    });
    await store.certificates.insert(cert);
    const { approval } = await store.approvals.open({
      id: randomUUID(),
      kind: 'renewal',
      certificateId: cert.id,
      state: 'pending',
      summary: { names: ['www.example.com'], serial: '0a1b', profile: 'prod' },
      requestedBy: 'scheduler',
      requestedAt: new Date(),
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    await store.events.emit({
      kind: 'approval_requested',
      certificateId: cert.id,
      subject: cert.name,
      dedupeKey: `approval:${approval.id}:requested`,
      detail: { approvalId: approval.id, kind: 'renewal', names: ['www.example.com'] },
      needsPerson: true,
    });
    return approval;
  }

  it('posts a pending approval request with its Approve and Deny buttons, built from the stored approval', async () => {
    const approval = await pendingApproval();
    const slack = fakeSlack();
    expect(await notifierFor(slack, fakeClock()).runOnce()).toEqual({ posted: 1, digested: 0 });
    const blocks = JSON.stringify(slack.posted[0]!.blocks);
    expect(blocks).toContain(APPROVE_ACTION);
    expect(blocks).toContain(DENY_ACTION);
    expect(blocks).toContain(approval.id);
  });

  it('posts an approval request decided before delivery as plain information, without buttons', async () => {
    const approval = await pendingApproval();
    await store.approvals.transition(approval.id, 'pending', {
      state: 'approved',
      decidedBy: 'slack:U0BOB',
      decidedAt: new Date(),
      reason: null,
    });
    const slack = fakeSlack();
    await notifierFor(slack, fakeClock()).runOnce();
    expect(slack.posted).toHaveLength(1);
    expect(JSON.stringify(slack.posted[0]!.blocks)).not.toContain(APPROVE_ACTION);
  });

  it('sends a message Slack refuses for its blocks again as plain text, and goes on with the next event', async () => {
    await emit('renewal_failed', 'a.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    await emit('renewal_failed', 'b.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    const slack = fakeSlack();
    slack.failWith((n) =>
      n === 1 ? { code: 'slack_webapi_platform_error', data: { ok: false, error: 'invalid_blocks' } } : null,
    );
    expect(await notifierFor(slack, fakeClock()).runOnce()).toEqual({ posted: 2, digested: 0 });
    expect(slack.posted.map((p) => [p.text, p.blocks.length])).toEqual([
      ['Renewal of a.example.com failed', 0],
      ['Renewal of b.example.com failed', expect.any(Number)],
    ]);
    expect(await store.events.listUndelivered(10)).toHaveLength(0);
  });

  it('gives up an event Slack refuses on every attempt, so the outbox does not stall behind it', async () => {
    await emit('renewal_failed', 'a.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    await emit('renewal_failed', 'b.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    const slack = fakeSlack();
    slack.failWith((n) =>
      n <= 2 ? { code: 'slack_webapi_platform_error', data: { ok: false, error: 'msg_too_long' } } : null,
    );
    const clock = fakeClock();
    const notifier = notifierFor(slack, clock);
    // Run 1: a is refused as built and as plain text (attempts 1, 2), then waits out its backoff; b goes.
    expect(await notifier.runOnce()).toEqual({ posted: 1, digested: 0 });
    expect(slack.posted.map((p) => p.text)).toEqual(['Renewal of b.example.com failed']);
    slack.failWith(() => ({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'msg_too_long' } }));
    // Within the backoff a is not offered again.
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(slack.calls).toBe(3);
    for (const wait of [60_000, 300_000, 1_800_000]) {
      clock.advance(wait);
      expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    }
    expect(slack.calls).toBe(6);
    expect(await store.events.listUndelivered(10)).toHaveLength(0);
    const gone = await store.events.undeliverable(10, new Date(0));
    expect(gone.count).toBe(1);
    expect(gone.latest[0]).toMatchObject({ subject: 'a.example.com', attempts: 5, lastError: 'msg_too_long' });
  });

  it('skips an event whose channel refuses it (not_in_channel) and goes on with the next', async () => {
    await emit('renewal_failed', 'a.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    await emit('renewal_failed', 'b.example.com', { code: 'x', message: 'y', attempt: 1 }, true);
    const slack = fakeSlack();
    slack.failWith((n) =>
      n <= 2 ? { code: 'slack_webapi_platform_error', data: { ok: false, error: 'not_in_channel' } } : null,
    );
    expect(await notifierFor(slack, fakeClock()).runOnce()).toEqual({ posted: 1, digested: 0 });
    expect(slack.posted.map((p) => [p.text, p.blocks.length > 0])).toEqual([['Renewal of b.example.com failed', true]]);
    const [waiting] = await store.events.list({ undelivered: true });
    expect(waiting).toMatchObject({ subject: 'a.example.com' });
  });
});
