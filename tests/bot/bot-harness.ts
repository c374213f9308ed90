import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { type BotApp, createBotApp } from '../../bot/app.ts';
import { loadConfig } from '../../core/config.ts';
import { approverGroupsOf } from '../../bot/slack-user-groups.ts';
import { approversOf } from '../../runtime.ts';
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
  /** When the stub received it (epoch ms). */
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface SlackStub {
  url: string;
  calls: StubCall[];
  /**
   * Texts the bot sent (Web API, response_url, HTTP acks) that speak CLI words (`CLI_WORDS_IN_SLACK`).
   * The harness's `close()` fails the suite when any were seen: every bot suite checks it.
   */
  leaks: string[];
  /** Every Web API call to `method` (e.g. `views.open`), its form fields parsed and `view`/`blocks` JSON-decoded. */
  api(method: string): Record<string, unknown>[];
  /** Waits until `method` has been called `count` times (at most `timeoutMs`, default 10 s); returns those calls. */
  waitForApi(method: string, count?: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** What `respond()` posted to /response/<id>, parsed. */
  responses(id: string): Record<string, unknown>[];
  /**
   * Test hook: Slack's answer to `method` comes from `answer` (given the call's parsed fields) whenever it
   * returns one, e.g. `{ ok: false, error: 'not_in_channel' }` for one channel; `undefined` keeps the usual
   * answer (`__status: 503` in it sets the HTTP status). `null` removes the override; `clearOverrides()` (and the harness's `reset()`) removes them all.
   */
  override(
    method: string,
    answer: ((fields: Record<string, unknown>) => Record<string, unknown> | undefined) | null,
  ): void;
  /** Socket Mode: what `apps.connections.open` answers (the local WebSocket standing in for Slack's). */
  socketUrl?: string;
  /** The next call to `method` is answered as Slack rate-limits: HTTP 429 with `Retry-After: <seconds>`. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  clearOverrides(): void;
  close(): Promise<void>;
}

/**
 * CLI words in a text the bot sends to Slack: a `bigip-acme …` command line, or a command the core
 * mentioned (core/errors.ts `mentionCommand`) that was not said in Slack's words. Issue 15: never.
 */
export const CLI_WORDS_IN_SLACK = /bigip-acme\s|⟦|⟧/;

/** Every string inside a sent body (form fields, JSON, nested blocks), for the CLI-words check. */
export function sentStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) sentStrings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) sentStrings(v, out);
  return out;
}

/** The texts in `body` (as sent to the Web API, a response_url or as an HTTP ack) that speak CLI words. */
export function cliWordsIn(body: string): string[] {
  if (body.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed =
      body.trimStart().startsWith('{') || body.trimStart().startsWith('[') ? JSON.parse(body) : parseApiBody(body);
  } catch {
    parsed = body;
  }
  return sentStrings(parsed).filter((t) => CLI_WORDS_IN_SLACK.test(t));
}

export async function startSlackStub(): Promise<SlackStub> {
  const calls: StubCall[] = [];
  const leaks: string[] = [];
  const overrides = new Map<string, (fields: Record<string, unknown>) => Record<string, unknown> | undefined>();
  const rateLimited = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      calls.push({ path, at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (!path.startsWith('/upload/'))
        for (const t of cliWordsIn(calls[calls.length - 1]!.body)) leaks.push(`${path.split('?')[0]}: ${t}`);
      res.setHeader('content-type', 'application/json');
      if (path.startsWith('/api/auth.test')) {
        res.end(
          JSON.stringify({
            ok: true,
            url: 'https://test.slack.com/',
            team: 'Test',
            user: 'bigip-acme',
            team_id: TEAM_ID,
            user_id: 'U0BOT',
            bot_id: 'B0BOT',
          }),
        );
        return;
      }
      if (path.startsWith('/api/apps.connections.open') && stub.socketUrl) {
        res.end(JSON.stringify({ ok: true, url: stub.socketUrl }));
        return;
      }
      const n = calls.length;
      const method = path.startsWith('/api/') ? path.slice('/api/'.length).split('?')[0]! : '';
      const retryAfter = rateLimited.get(method);
      if (retryAfter !== undefined) {
        rateLimited.delete(method);
        res.writeHead(429, { 'retry-after': String(retryAfter) });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      const overridden = overrides.get(method)?.(parseApiBody(calls[calls.length - 1]!.body));
      if (overridden !== undefined) {
        // `__status` answers with that HTTP status (a Slack 5xx), the rest as the body.
        const { __status, ...answer } = overridden;
        if (typeof __status === 'number') res.statusCode = __status;
        res.end(JSON.stringify(answer));
        return;
      }
      if (path.startsWith('/api/views.')) {
        // Slack answers views.open/update/push/publish with the view, its id and a fresh hash.
        const fields = parseApiBody(calls[calls.length - 1]!.body);
        const view = fields['view'] as Record<string, unknown> | undefined;
        const id = typeof fields['view_id'] === 'string' ? fields['view_id'] : `V${n}`;
        res.end(JSON.stringify({ ok: true, view: { ...view, id, hash: `hash-${n}` } }));
        return;
      }
      if (path.startsWith('/api/chat.postMessage') || path.startsWith('/api/chat.update')) {
        const fields = parseApiBody(calls[calls.length - 1]!.body);
        res.end(
          JSON.stringify({
            ok: true,
            channel: fields['channel'] ?? 'C0TEST',
            ts: fields['ts'] ?? `1700000000.${String(n).padStart(6, '0')}`,
          }),
        );
        return;
      }
      if (path.startsWith('/api/conversations.open')) {
        // The DM channel with a user: one stable id per user, as Slack answers.
        const fields = parseApiBody(calls[calls.length - 1]!.body);
        res.end(JSON.stringify({ ok: true, channel: { id: `D${String(fields['users'] ?? '')}` } }));
        return;
      }
      // files.uploadV2 = getUploadURLExternal (one per file) → POST the bytes to its upload_url → completeUploadExternal.
      if (path.startsWith('/api/files.getUploadURLExternal')) {
        res.end(JSON.stringify({ ok: true, upload_url: `${url}/upload/${n}`, file_id: `F${n}` }));
        return;
      }
      if (path.startsWith('/upload/')) {
        res.setHeader('content-type', 'text/plain');
        res.end(`OK - ${Buffer.concat(chunks).length}`);
        return;
      }
      if (path.startsWith('/api/files.completeUploadExternal')) {
        const fields = parseApiBody(calls[calls.length - 1]!.body);
        const files = Array.isArray(fields['files']) ? (fields['files'] as { id?: unknown; title?: unknown }[]) : [];
        res.end(JSON.stringify({ ok: true, files: files.map((f) => ({ id: f.id, title: f.title, name: f.title })) }));
        return;
      }
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = (method: string) => calls.filter((c) => c.path === `/api/${method}`).map((c) => parseApiBody(c.body));
  const stub: SlackStub = {
    url,
    calls,
    leaks,
    api,
    async waitForApi(method, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = api(method);
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`expected ${count} ${method} call(s), saw ${found.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    responses: (id) =>
      calls.filter((c) => c.path === `/response/${id}`).map((c) => JSON.parse(c.body) as Record<string, unknown>),
    override(method, answer) {
      if (answer) overrides.set(method, answer);
      else overrides.delete(method);
    },
    rateLimitNext(method, retryAfterSeconds) {
      rateLimited.set(method, retryAfterSeconds);
    },
    clearOverrides: () => {
      overrides.clear();
      rateLimited.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stub;
}

/** A Web API request body: form fields, with the JSON-valued ones (view, blocks, …) decoded. */
export function parseApiBody(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const params = body.trimStart().startsWith('{')
    ? Object.entries(JSON.parse(body) as Record<string, unknown>)
    : [...new URLSearchParams(body)];
  for (const [k, v] of params) {
    if (typeof v === 'string' && (v.startsWith('{') || v.startsWith('['))) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // not JSON after all: keep the string
      }
    }
    out[k] = v;
  }
  return out;
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
  return Object.fromEntries(
    Object.entries(services).map(([k, v]) => [k, wrap(k, v as object)]),
  ) as unknown as CoreServices;
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
  command(
    text: string,
    opts?: { timestamp?: number; signature?: string; teamId?: string; userId?: string; channelId?: string },
  ): Promise<{ status: number; body: string; id: string; ms: number }>;
  /** Sends a signed interactivity request (`payload=<JSON>`, as Slack posts block_actions and view_submission). */
  interact(
    payload: Record<string, unknown>,
    opts?: { timestamp?: number; signature?: string },
  ): Promise<{ status: number; body: string }>;
  /**
   * Submits a modal as Slack would: `values` is `{ blockId: { actionId: value } }` where a value is a
   * string (plain input), `{ selected: 'v' }` (select/radio), `{ multi: ['v'] }` (checkboxes) or a raw
   * Slack value object. Returns the HTTP answer (`response_action` JSON, or empty).
   */
  submitView(
    callbackId: string,
    values: Record<string, Record<string, unknown>>,
    opts?: { userId?: string; teamId?: string; privateMetadata?: string; viewId?: string; hash?: string },
  ): Promise<{ status: number; body: string; json: Record<string, unknown> | null }>;
  /**
   * Clicks a button (or picks from a select with `selected`) in a message, a modal (`viewId`) or App Home
   * (`home: true`). The response_url is `/response/<returned id>` on the stub.
   */
  click(
    actionId: string,
    value: string,
    opts?: {
      userId?: string;
      teamId?: string;
      blockId?: string;
      channelId?: string;
      messageTs?: string;
      viewId?: string;
      hash?: string;
      privateMetadata?: string;
      viewValues?: Record<string, Record<string, unknown>>;
      callbackId?: string;
      home?: boolean;
      selected?: string;
      /** The clicked message is ephemeral (a command's answer): chat.update cannot edit it, its response_url can. */
      ephemeral?: boolean;
    },
  ): Promise<{ status: number; body: string; id: string }>;
  /**
   * Types into an external select in a modal as Slack would: a signed `block_suggestion` for `blockId`
   * (Slack also sends the view's current state). Returns the options the bot answered with.
   */
  suggest(
    blockId: string,
    query: string,
    opts?: {
      userId?: string;
      actionId?: string;
      callbackId?: string;
      privateMetadata?: string;
      viewValues?: Record<string, Record<string, unknown>>;
    },
  ): Promise<{ status: number; ms: number; options: { value: string; text: { text: string } }[] }>;
  /** Sends a signed Events API `event_callback` (e.g. app_home_opened). */
  event(event: Record<string, unknown>, opts?: { teamId?: string }): Promise<{ status: number; body: string }>;
  /** Waits for what `respond()` posted for a command. */
  response(id: string): Promise<Record<string, unknown>>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

let nextId = 0;

export interface BotHarnessOptions {
  /**
   * `http` (default): the Bolt HTTP receiver, signed requests. `socket`: Socket Mode, the bot connecting to
   * a local WebSocket server standing in for Slack's (through `apps.connections.open` on the stub); the
   * same `command`/`interact`/`submitView`/`click`/`event` send envelopes there and answer with the ack's
   * payload, so one scenario runs under both receivers.
   */
  mode?: 'http' | 'socket';
  allowedTeamIds?: string[];
  env?: Record<string, string>;
  /** A core built elsewhere (e.g. against Pebble); the harness then neither owns nor closes its database. */
  core?: { database: Database; store: Store; secrets: SecretBox; services: CoreServices };
}

export async function startBotHarness(opts: BotHarnessOptions = {}): Promise<BotHarness> {
  const own = opts.core === undefined;
  const database = opts.core?.database ?? (await openDatabase({ memory: true }));
  if (own) await database.migrate();
  const store = opts.core?.store ?? createDrizzleStore(database);
  const secrets = opts.core?.secrets ?? createSecretBox(randomBytes(32).toString('base64'));
  const stub = await startSlackStub();
  const socket = opts.mode === 'socket' ? await startSocketStandIn() : null;
  if (socket) stub.socketUrl = socket.url;
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${stub.url}/api/`,
    LOG_LEVEL: 'silent',
    ...(socket ? { SLACK_APP_TOKEN: 'xapp-1-test-token' } : {}),
    ...opts.env,
  });
  // As runtime.ts wires it: the core decides who may approve, from the same settings the bot reads, and
  // the core and the bot share one cache of the approver user groups.
  const approverGroups = approverGroupsOf(config, silentLogger);
  const services =
    opts.core?.services ??
    createCoreServices(deployCoreDeps(store, secrets), {
      approvers: approversOf(config),
      approverGroups,
      allowSelfApproval: config.APPROVAL_ALLOW_SELF,
    });
  const coreCalls = { calls: [] as string[] };
  const bot = createBotApp({
    services: counted(services, coreCalls),
    config,
    log: silentLogger,
    approverGroups,
    listen: { host: '127.0.0.1', port: 0 },
    ...(opts.allowedTeamIds ? { allowedTeamIds: opts.allowedTeamIds } : {}),
  });
  await bot.start();
  const where = bot.where();
  if (socket) {
    if (where?.mode !== 'socket') throw new Error('the bot did not start in Socket Mode');
    await socket.connected();
  } else if (where?.mode !== 'http') throw new Error('the bot did not start in HTTP mode');
  const botUrl = where?.mode === 'http' ? `http://127.0.0.1:${where.port}${where.path}` : (socket?.url ?? '');

  const harness: BotHarness = {
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
        channel_id: o.channelId ?? 'C0TEST',
        channel_name: 'ops',
        user_id: o.userId ?? 'U0ALICE',
        user_name: 'alice',
        command: '/acme',
        text,
        api_app_id: 'A0TEST',
        response_url: `${stub.url}/response/${id}`,
        trigger_id: `trigger-${id}`,
      }).toString();
      const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
      const started = Date.now();
      if (socket) {
        const answer = await socket.send('slash_commands', Object.fromEntries(new URLSearchParams(body)));
        for (const t of cliWordsIn(answer)) stub.leaks.push(`ack of /acme ${text}: ${t}`);
        return { status: 200, body: answer, id, ms: Date.now() - started };
      }
      const res = await fetch(botUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': o.signature ?? sign(SIGNING_SECRET, timestamp, body),
        },
        body,
      });
      const answer = await res.text();
      for (const t of cliWordsIn(answer)) stub.leaks.push(`ack of /acme ${text}: ${t}`);
      return { status: res.status, body: answer, id, ms: Date.now() - started };
    },
    async interact(payload, o = {}) {
      if (socket) {
        const answer = await socket.send('interactive', payload);
        for (const t of cliWordsIn(answer)) stub.leaks.push(`ack of ${String(payload['type'])}: ${t}`);
        return { status: 200, body: answer };
      }
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
      const answer = await res.text();
      for (const t of cliWordsIn(answer)) stub.leaks.push(`ack of ${String(payload['type'])}: ${t}`);
      return { status: res.status, body: answer };
    },
    async submitView(callbackId, values, o = {}) {
      const res = await harness.interact({
        type: 'view_submission',
        team: { id: o.teamId ?? TEAM_ID, domain: 'test' },
        user: { id: o.userId ?? 'U0ALICE', team_id: o.teamId ?? TEAM_ID, name: 'user' },
        api_app_id: 'A0TEST',
        trigger_id: `trigger-view-${++nextId}`,
        view: {
          id: o.viewId ?? 'V0MODAL',
          hash: o.hash ?? 'hash-0',
          type: 'modal',
          callback_id: callbackId,
          private_metadata: o.privateMetadata ?? '',
          state: { values: slackValues(values) },
        },
      });
      let json: Record<string, unknown> | null = null;
      if (res.body.trim().startsWith('{')) json = JSON.parse(res.body) as Record<string, unknown>;
      return { ...res, json };
    },
    async click(actionId, value, o = {}) {
      const id = String(++nextId);
      const team = o.teamId ?? TEAM_ID;
      const action: Record<string, unknown> =
        o.selected !== undefined
          ? {
              type: 'static_select',
              action_id: actionId,
              block_id: o.blockId ?? 'b',
              selected_option: { value: o.selected, text: { type: 'plain_text', text: o.selected } },
              action_ts: '1',
            }
          : {
              type: 'button',
              action_id: actionId,
              block_id: o.blockId ?? 'b',
              value,
              text: { type: 'plain_text', text: actionId },
              action_ts: '1',
            };
      const payload: Record<string, unknown> = {
        type: 'block_actions',
        team: { id: team, domain: 'test' },
        user: { id: o.userId ?? 'U0ALICE', team_id: team, name: 'user' },
        api_app_id: 'A0TEST',
        trigger_id: `trigger-click-${id}`,
        actions: [action],
      };
      if (o.viewId !== undefined || o.home) {
        payload['container'] = { type: 'view', view_id: o.viewId ?? 'V0HOME' };
        payload['view'] = {
          id: o.viewId ?? 'V0HOME',
          hash: o.hash ?? 'hash-0',
          type: o.home ? 'home' : 'modal',
          callback_id: o.callbackId ?? '',
          private_metadata: o.privateMetadata ?? '',
          state: { values: slackValues(o.viewValues ?? {}) },
        };
      } else {
        const channel = o.channelId ?? 'C0TEST';
        const ts = o.messageTs ?? '1700000000.000100';
        payload['container'] = {
          type: 'message',
          channel_id: channel,
          message_ts: ts,
          is_ephemeral: o.ephemeral === true,
        };
        payload['channel'] = { id: channel, name: 'ops' };
        payload['message'] = { type: 'message', ts, text: '' };
        payload['response_url'] = `${stub.url}/response/${id}`;
      }
      const res = await harness.interact(payload);
      return { ...res, id };
    },
    async suggest(blockId, query, o = {}) {
      const started = Date.now();
      const res = await harness.interact({
        type: 'block_suggestion',
        team: { id: TEAM_ID, domain: 'test' },
        user: { id: o.userId ?? 'U0ALICE', team_id: TEAM_ID, name: 'user' },
        api_app_id: 'A0TEST',
        block_id: blockId,
        action_id: o.actionId ?? 'value',
        value: query,
        container: { type: 'view', view_id: 'V0MODAL' },
        view: {
          id: 'V0MODAL',
          hash: 'hash-0',
          type: 'modal',
          callback_id: o.callbackId ?? '',
          private_metadata: o.privateMetadata ?? '',
          state: { values: slackValues(o.viewValues ?? {}) },
        },
      });
      const ms = Date.now() - started;
      const json = res.body.trim().startsWith('{') ? (JSON.parse(res.body) as { options?: unknown }) : {};
      const options = Array.isArray(json.options) ? (json.options as { value: string; text: { text: string } }[]) : [];
      return { status: res.status, ms, options };
    },
    async event(event, o = {}) {
      const body = JSON.stringify({
        token: 'legacy-verification-token',
        team_id: o.teamId ?? TEAM_ID,
        api_app_id: 'A0TEST',
        type: 'event_callback',
        event_id: `Ev${++nextId}`,
        event_time: Math.floor(Date.now() / 1000),
        event,
      });
      if (socket) return { status: 200, body: await socket.send('events_api', JSON.parse(body)) };
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await fetch(botUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': sign(SIGNING_SECRET, timestamp, body),
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
      stub.clearOverrides();
      await truncateAll(database);
    },
    async close() {
      await bot.stop();
      await socket?.close();
      await stub.close();
      if (own) await database.close();
      if (stub.leaks.length > 0)
        throw new Error(
          `the bot sent CLI words to Slack (issue 15: Slack words only):\n  ${[...new Set(stub.leaks)].join('\n  ')}`,
        );
    },
  };
  return harness;
}

/**
 * A local WebSocket server playing Slack's Socket Mode endpoint: says hello on connect, sends envelopes,
 * and resolves each with the bot's ack for its envelope_id (its payload as the HTTP body would be: a
 * string as is, an object as JSON, nothing as '').
 */
async function startSocketStandIn(): Promise<{
  url: string;
  connected(): Promise<void>;
  send(type: string, payload: unknown): Promise<string>;
  close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let socket: WebSocket | null = null;
  const waiting = new Map<string, (payload: unknown) => void>();
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const ack = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (ack.envelope_id) waiting.get(ack.envelope_id)?.(ack.payload);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TEST' } }));
  });
  let seq = 0;
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`,
    async connected() {
      const deadline = Date.now() + 10_000;
      while (!socket) {
        if (Date.now() > deadline) throw new Error('the bot did not connect to the Socket Mode stand-in');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Bolt's socket client counts itself connected once it has read the hello.
      await new Promise((r) => setTimeout(r, 50));
    },
    send(type, payload) {
      const envelopeId = `env-${++seq}`;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(envelopeId);
          reject(new Error(`no ack for ${type} envelope ${envelopeId}`));
        }, 10_000);
        waiting.set(envelopeId, (answer) => {
          clearTimeout(timer);
          waiting.delete(envelopeId);
          resolve(
            answer === undefined || answer === null ? '' : typeof answer === 'string' ? answer : JSON.stringify(answer),
          );
        });
        socket!.send(JSON.stringify({ envelope_id: envelopeId, type, accepts_response_payload: true, payload }));
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Test shorthand for modal state → Slack's `view.state.values` shape. */
export function slackValues(values: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [blockId, actions] of Object.entries(values)) {
    out[blockId] = {};
    for (const [actionId, v] of Object.entries(actions)) {
      let value: unknown;
      if (typeof v === 'string') value = { type: 'plain_text_input', value: v };
      else if (v === null) value = { type: 'plain_text_input', value: null };
      else if (typeof v === 'object' && 'selected' in v) {
        const sel = (v as { selected: string | null }).selected;
        value = {
          type: 'static_select',
          selected_option: sel === null ? null : { value: sel, text: { type: 'plain_text', text: sel } },
        };
      } else if (typeof v === 'object' && 'multi' in v) {
        value = {
          type: 'checkboxes',
          selected_options: (v as { multi: string[] }).multi.map((m) => ({
            value: m,
            text: { type: 'plain_text', text: m },
          })),
        };
      } else value = v;
      out[blockId]![actionId] = value;
    }
  }
  return out;
}

/** Every text a message shows (blocks included), flattened, for "contains" assertions. */
export function messageText(message: Record<string, unknown>): string {
  return JSON.stringify(message);
}
