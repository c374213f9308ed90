import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier, type Notifier } from '../../bot/notifier.ts';
import { runCli } from '../../cli/program.ts';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import { MAX_DELIVERY_ATTEMPTS } from '../../core/domain/delivery-failure.ts';
import type { Clock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { createOutboxService } from '../../core/services/outbox-service.ts';
import type { Runtime } from '../../runtime.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * Issue 15, failure containment: the notifier's real WebClient against the Slack stub, which refuses one
 * message with each permanent error Slack has. The other messages still go in the same run; the refused
 * one is retried with backoff, given up after a bounded number of attempts, and counted in `status` (the
 * CLI's and `/acme status`). Retryable answers (5xx, internal_error, 429) give nothing up.
 */

function steppingClock(): Clock & { advance(ms: number): void } {
  let t = Date.now();
  return {
    now: () => new Date(t),
    sleep: async () => {},
    advance(ms) {
      t += ms;
    },
  };
}

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

let seq = 0;
async function emit(subject: string, kind: CoreEvent['kind'] = 'renewal_failed') {
  await h.store.events.emit({
    kind,
    certificateId: null,
    subject,
    dedupeKey: `${subject}:${kind}:${++seq}`,
    detail: { code: 'acme_error', message: 'the CA said no', attempt: 1 },
    needsPerson: true,
  });
}

function notifierOn(clock: Clock): Notifier {
  // As cli/slack-notifier.ts builds it, without client-side retries so each refusal is one call.
  const client = new webApi.WebClient('xoxb-test-token', {
    slackApiUrl: `${h.stub.url}/api/`,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  return createNotifier({
    outbox: createOutboxService({ store: h.store, clock, log: silentLogger }),
    client,
    channel: 'C0NOTIFY',
    clock,
    log: silentLogger,
    spacingMs: 0,
  });
}

/** Texts Slack accepted, in order. */
const accepted = (refused: Set<string>) =>
  h.stub
    .api('chat.postMessage')
    .map((f) => String(f['text']))
    .filter((t) => ![...refused].some((r) => t.includes(r)));

async function cliStatus(): Promise<string> {
  let stdout = '';
  await runCli(['status'], {
    stdout: (t) => (stdout += t),
    stderr: () => {},
    cwd: process.cwd(),
    user: 'tester',
    servesChallenges: false,
    withRuntime: (fn) => fn({ services: h.services } as unknown as Runtime),
  });
  return stdout;
}

describe('a notification Slack refuses for good', () => {
  for (const error of ['invalid_blocks', 'msg_too_long', 'channel_not_found', 'not_in_channel', 'is_archived']) {
    it(`${error}: later messages are delivered, the refused one is given up after bounded retries and counted in status`, async () => {
      await emit('first.example.com');
      await emit('bad.example.com');
      await emit('later.example.com');
      h.stub.override('chat.postMessage', (f) =>
        String(f['text']).includes('bad.example.com') ? { ok: false, error } : undefined,
      );
      const clock = steppingClock();
      const notifier = notifierOn(clock);

      expect(await notifier.runOnce()).toEqual({ posted: 2, digested: 0 });
      expect(accepted(new Set(['bad.example.com']))).toEqual([
        'Renewal of first.example.com failed',
        'Renewal of later.example.com failed',
      ]);
      const [waiting] = await h.store.events.list({ undelivered: true });
      expect(waiting?.subject).toBe('bad.example.com');

      // Each run after its backoff tries it once more; a new event meanwhile is never held up behind it.
      await emit('meanwhile.example.com');
      for (let run = 0; run < 6; run++) {
        clock.advance(31 * 60_000);
        await notifier.runOnce();
      }
      const calls = h.stub.api('chat.postMessage');
      const badCalls = calls.filter((f) => String(f['text']).includes('bad.example.com'));
      expect(badCalls).toHaveLength(MAX_DELIVERY_ATTEMPTS);
      expect(calls.filter((f) => String(f['text']).includes('meanwhile.example.com'))).toHaveLength(1);
      expect(await h.store.events.listUndelivered(10)).toEqual([]);
      const gone = await h.store.events.undeliverable(10, new Date(0));
      expect(gone.latest).toEqual([
        expect.objectContaining({ subject: 'bad.example.com', attempts: MAX_DELIVERY_ATTEMPTS, lastError: error }),
      ]);
      // A content refusal falls back to plain text (no blocks); a channel refusal keeps the message as built.
      const plain = badCalls.filter((f) => f['blocks'] === undefined).length;
      expect(plain).toBe(error === 'invalid_blocks' || error === 'msg_too_long' ? MAX_DELIVERY_ATTEMPTS - 1 : 0);

      const cli = await cliStatus();
      expect(cli).toContain('notifications (2)');
      expect(cli).toContain(`1 notification Slack refused on every attempt`);
      expect(cli).toContain(`renewal_failed of bad.example.com: ${error} after ${MAX_DELIVERY_ATTEMPTS} attempts`);
      const slack = await h.command('status');
      const answer = JSON.stringify(await h.response(slack.id));
      expect(answer).toContain('Undeliverable notifications (7 days):* 1');
    });
  }
});

describe('a notification Slack cannot take right now', () => {
  const retryable: { name: string; answer: Record<string, unknown> }[] = [
    { name: 'HTTP 503', answer: { __status: 503, ok: false } },
    { name: 'internal_error', answer: { ok: false, error: 'internal_error' } },
  ];
  for (const row of retryable) {
    it(`${row.name}: the run backs off with the message first in line, and nothing is ever given up`, async () => {
      await emit('one.example.com');
      await emit('two.example.com');
      h.stub.override('chat.postMessage', () => row.answer);
      const clock = steppingClock();
      const notifier = notifierOn(clock);
      for (let run = 0; run < MAX_DELIVERY_ATTEMPTS + 2; run++) {
        expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
      }
      // One call per run: the first message, never skipped past.
      const calls = h.stub.api('chat.postMessage');
      expect(calls).toHaveLength(MAX_DELIVERY_ATTEMPTS + 2);
      expect(calls.every((f) => String(f['text']).includes('one.example.com'))).toBe(true);
      expect((await h.store.events.undeliverable(10, new Date(0))).count).toBe(0);

      h.stub.override('chat.postMessage', null);
      expect(await notifier.runOnce()).toEqual({ posted: 2, digested: 0 });
      expect(await h.store.events.listUndelivered(10)).toEqual([]);
      expect(await cliStatus()).not.toContain('notifications (');
    });
  }

  it('a rate limit pauses everything until Retry-After, then both go; nothing is given up', async () => {
    await emit('one.example.com');
    await emit('two.example.com');
    h.stub.rateLimitNext('chat.postMessage', 30);
    const clock = steppingClock();
    const notifier = notifierOn(clock);
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(await notifier.runOnce()).toEqual({ posted: 0, digested: 0 });
    expect(h.stub.api('chat.postMessage')).toHaveLength(1);
    clock.advance(30_000);
    expect(await notifier.runOnce()).toEqual({ posted: 2, digested: 0 });
    expect((await h.store.events.undeliverable(10, new Date(0))).count).toBe(0);
  });
});
