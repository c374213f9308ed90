import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BotApp, createBotApp } from '../../bot/app.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox, type SecretBox } from '../../core/secrets/secret-box.ts';
import { type CoreServices, createCoreServices } from '../../core/services/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { truncateAll } from '../support/test-db.ts';

/**
 * The real Bolt HTTP receiver on a free loopback port, in front of core services on in-memory PGlite, with
 * one local HTTP stub standing in for both Slack's Web API (SLACK_API_URL) and the commands' response_url.
 */
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const TEAM_ID = 'T0TEST';

export interface StubCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface SlackStub {
  url: string;
  calls: StubCall[];
  /** What `respond()` posted to /response/<id>, parsed. */
  responses(id: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startSlackStub(): Promise<SlackStub> {
  const calls: StubCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      calls.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.setHeader('content-type', 'application/json');
      if (path.startsWith('/api/auth.test')) {
        res.end(JSON.stringify({ ok: true, url: 'https://test.slack.com/', team: 'Test', user: 'bigip-acme', team_id: TEAM_ID, user_id: 'U0BOT', bot_id: 'B0BOT' }));
        return;
      }
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    responses: (id) => calls.filter((c) => c.path === `/response/${id}`).map((c) => JSON.parse(c.body) as Record<string, unknown>),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Wraps every service so each method call is counted: "no core call" is then something a test can assert. */
function counted(services: CoreServices, counter: { calls: string[] }): CoreServices {
  const wrap = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          counter.calls.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  return Object.fromEntries(Object.entries(services).map(([k, v]) => [k, wrap(k, v as object)])) as unknown as CoreServices;
}

export interface BotHarness {
  database: Database;
  store: Store;
  secrets: SecretBox;
  services: CoreServices;
  stub: SlackStub;
  bot: BotApp;
  botUrl: string;
  coreCalls: { calls: string[] };
  /** Sends a signed `/acme` slash command; returns the HTTP status, its body and the response_url id. */
  command(text: string, opts?: { timestamp?: number; signature?: string; teamId?: string }): Promise<{ status: number; body: string; id: string; ms: number }>;
  /** Sends a signed interactivity request (`payload=<JSON>`, as Slack posts block_actions and view_submission). */
  interact(payload: Record<string, unknown>, opts?: { timestamp?: number; signature?: string }): Promise<{ status: number; body: string }>;
  /** Waits for what `respond()` posted for a command. */
  response(id: string): Promise<Record<string, unknown>>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

let nextId = 0;

export async function startBotHarness(opts: { allowedTeamIds?: string[]; env?: Record<string, string> } = {}): Promise<BotHarness> {
  const database = await openDatabase({ memory: true });
  await database.migrate();
  const store = createDrizzleStore(database);
  const secrets = createSecretBox(randomBytes(32).toString('base64'));
  const services = createCoreServices(deployCoreDeps(store, secrets));
  const coreCalls = { calls: [] as string[] };
  const stub = await startSlackStub();
  const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: `${stub.url}/api/`, LOG_LEVEL: 'silent', ...opts.env });
  const bot = createBotApp({
    services: counted(services, coreCalls),
    config,
    log: silentLogger,
    listen: { host: '127.0.0.1', port: 0 },
    ...(opts.allowedTeamIds ? { allowedTeamIds: opts.allowedTeamIds } : {}),
  });
  await bot.start();
  const where = bot.where();
  if (where?.mode !== 'http') throw new Error('the bot did not start in HTTP mode');
  const botUrl = `http://127.0.0.1:${where.port}${where.path}`;

  return {
    database,
    store,
    secrets,
    services,
    stub,
    bot,
    botUrl,
    coreCalls,
    async command(text, o = {}) {
      const id = String(++nextId);
      const body = new URLSearchParams({
        token: 'legacy-verification-token',
        team_id: o.teamId ?? TEAM_ID,
        team_domain: 'test',
        channel_id: 'C0TEST',
        channel_name: 'ops',
        user_id: 'U0ALICE',
        user_name: 'alice',
        command: '/acme',
        text,
        api_app_id: 'A0TEST',
        response_url: `${stub.url}/response/${id}`,
        trigger_id: `trigger-${id}`,
      }).toString();
      const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
      const started = Date.now();
      const res = await fetch(botUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': o.signature ?? sign(SIGNING_SECRET, timestamp, body),
        },
        body,
      });
      return { status: res.status, body: await res.text(), id, ms: Date.now() - started };
    },
    async interact(payload, o = {}) {
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
      const res = await fetch(botUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': o.signature ?? sign(SIGNING_SECRET, timestamp, body),
        },
        body,
      });
      return { status: res.status, body: await res.text() };
    },
    async response(id) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const [first] = stub.responses(id);
        if (first) return first;
        if (Date.now() > deadline) throw new Error(`no response posted for command ${id}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async reset() {
      coreCalls.calls.length = 0;
      stub.calls.length = 0;
      await truncateAll(database);
    },
    async close() {
      await bot.stop();
      await stub.close();
      await database.close();
    },
  };
}

/** Every text a message shows (blocks included), flattened, for "contains" assertions. */
export function messageText(message: Record<string, unknown>): string {
  return JSON.stringify(message);
}
