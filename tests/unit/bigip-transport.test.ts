import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, parseManagementUrl } from '../../core/bigip/icontrol-transport.ts';

let server: http.Server;
let base: string;
const sockets = new Set<net.Socket>();
let hits = 0;
let dropNext = false;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (dropNext) {
      // Play a device that closed an idle pooled connection: the request gets no answer at all.
      dropNext = false;
      req.socket.destroy();
      return;
    }
    switch (req.url) {
      case '/slow':
        setTimeout(() => res.end('{}'), 2000);
        return;
      case '/redirect':
        res.writeHead(302, { Location: 'https://elsewhere.example/' }).end();
        return;
      case '/huge':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('x'.repeat(200_000));
        return;
      default:
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ port: req.socket.remotePort }));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('iControl transport', () => {
  it('refuses management URLs with credentials, a path or another scheme', () => {
    for (const bad of ['ftp://x', 'https://u:p@x', 'https://x/mgmt', 'https://x?a=1', 'not a url']) {
      expect(() => parseManagementUrl(bad)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    }
    expect(parseManagementUrl('https://10.0.0.5:8443').host).toBe('10.0.0.5:8443');
    expect(() => createTransport({ url: 'https://x', timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  it('keeps one connection alive across requests', async () => {
    const t = createTransport({ url: base });
    const a = await t.send({ method: 'GET', path: '/', headers: {} });
    const b = await t.send({ method: 'GET', path: '/', headers: {} });
    t.destroy();
    expect('error' in a || 'error' in b).toBe(false);
    if ('error' in a || 'error' in b) return;
    expect(JSON.parse(a.body.toString()).port).toBe(JSON.parse(b.body.toString()).port);
  });

  it('times out a request', async () => {
    const t = createTransport({ url: base, timeoutMs: 200 });
    const out = await t.send({ method: 'GET', path: '/slow', headers: {} });
    t.destroy();
    expect(out).toMatchObject({ error: expect.objectContaining({ code: 'ETIMEDOUT' }) });
  });

  it('does not follow redirects', async () => {
    const t = createTransport({ url: base });
    const out = await t.send({ method: 'GET', path: '/redirect', headers: {} });
    t.destroy();
    expect(out).toMatchObject({ status: 302 });
  });

  it('stops reading at the cap', async () => {
    const t = createTransport({ url: base });
    const out = await t.send({ method: 'GET', path: '/huge', headers: {}, cap: 1000 });
    const after = await t.send({ method: 'GET', path: '/', headers: {} });
    t.destroy();
    expect(out).toMatchObject({ status: 200, truncated: true });
    if (!('error' in out)) expect(out.body.length).toBe(1000);
    expect(after).toMatchObject({ status: 200 });
  });

  it('sends once more when a pooled connection turns out closed', async () => {
    const t = createTransport({ url: base });
    await t.send({ method: 'GET', path: '/', headers: {} });
    dropNext = true;
    const before = hits;
    const out = await t.send({ method: 'POST', path: '/', headers: {}, body: Buffer.from('{}') });
    t.destroy();
    expect(out).toMatchObject({ status: 200 });
    expect(hits - before).toBe(2);
  });
});
