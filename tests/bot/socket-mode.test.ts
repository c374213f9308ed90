import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { type BotApp, createBotApp } from '../../bot/app.ts';
import { NOT_THIS_WORKSPACE } from '../../bot/team-guard.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { createCoreServices } from '../../core/services/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { makeProfile } from '../fixtures/builders.ts';

/**
 * Socket Mode end to end on loopback: the bot asks the stubbed Web API for a WebSocket URL
 * (apps.connections.open with the app token), connects to a local WebSocket server playing Slack, receives
 * envelopes, acknowledges each by envelope_id, and answers through response_url, as in production.
 */
const TEAM = 'T0SOCK';

interface Envelope {
  envelope_id: string;
  payload?: unknown;
}

describe('Socket Mode', () => {
  let database: Database;
  let api: Server;
  let apiUrl: string;
  let wss: WebSocketServer;
  let socket: WebSocket | null = null;
  const acks: Envelope[] = [];
  const responses: { path: string; body: Record<string, unknown> }[] = [];
  const apiCalls: { path: string; auth: string | undefined }[] = [];
  let bot: BotApp;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    const store = createDrizzleStore(database);
    await store.profiles.insert(makeProfile({ name: 'socket-prod' }));
    const services = createCoreServices(deployCoreDeps(store, createSecretBox(randomBytes(32).toString('base64'))));

    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`;
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => acks.push(JSON.parse(String(data)) as Envelope));
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          connection_info: { app_id: 'A0TEST' },
          debug_info: { host: 'test' },
        }),
      );
    });

    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        apiCalls.push({ path, auth: req.headers.authorization });
        res.setHeader('content-type', 'application/json');
        if (path.startsWith('/api/auth.test')) {
          res.end(JSON.stringify({ ok: true, team_id: TEAM, user_id: 'U0BOT', bot_id: 'B0BOT' }));
        } else if (path.startsWith('/api/apps.connections.open')) {
          res.end(JSON.stringify({ ok: true, url: wsUrl }));
        } else {
          if (path.startsWith('/response/'))
            responses.push({
              path,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            });
          res.end(JSON.stringify({ ok: true }));
        }
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-socket-test',
      SLACK_APP_TOKEN: 'xapp-1-socket-test',
      SLACK_API_URL: `${apiUrl}/api/`,
      LOG_LEVEL: 'silent',
    });
    bot = createBotApp({ services, config, log: silentLogger });
    await bot.start();
  });

  afterAll(async () => {
    await bot?.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => api.close(() => resolve()));
    await database?.close();
  });

  async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function sendCommand(envelopeId: string, text: string, teamId = TEAM): string {
    const responseUrl = `${apiUrl}/response/${envelopeId}`;
    socket!.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          token: 'legacy',
          team_id: teamId,
          team_domain: 'test',
          channel_id: 'C0SOCK',
          user_id: 'U0ALICE',
          user_name: 'alice',
          command: '/acme',
          text,
          api_app_id: 'A0TEST',
          response_url: responseUrl,
          trigger_id: `trigger-${envelopeId}`,
        },
      }),
    );
    return `/response/${envelopeId}`;
  }

  it('connects with the app token through apps.connections.open, with no HTTP listener', async () => {
    expect(bot.where()).toEqual({ mode: 'socket' });
    await until('the WebSocket connection', () => socket ?? undefined);
    const open = apiCalls.find((c) => c.path.startsWith('/api/apps.connections.open'));
    expect(open?.auth).toBe('Bearer xapp-1-socket-test');
  });

  it('acknowledges a slash command envelope and answers it through response_url', async () => {
    await until('the WebSocket connection', () => socket ?? undefined);
    const path = sendCommand('env-1', 'profile list');
    await until('the ack', () => acks.find((a) => a.envelope_id === 'env-1'));
    const answer = await until('the answer', () => responses.find((r) => r.path === path));
    expect(answer.body['response_type']).toBe('ephemeral');
    expect(JSON.stringify(answer.body)).toContain('socket-prod');
  });

  it('refuses an envelope from another workspace visibly, in its ack, and runs nothing', async () => {
    await until('the WebSocket connection', () => socket ?? undefined);
    const path = sendCommand('env-2', 'profile list', 'T0OTHER');
    const ack = await until('the ack', () => acks.find((a) => a.envelope_id === 'env-2'));
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: NOT_THIS_WORKSPACE });
    // A later command from our workspace is answered, so the refused one had its chance to run first.
    const later = sendCommand('env-3', 'status');
    await until('the later answer', () => responses.find((r) => r.path === later));
    expect(responses.find((r) => r.path === path)).toBeUndefined();
  });
});
