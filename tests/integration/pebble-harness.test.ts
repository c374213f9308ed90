import { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { expect, it } from 'vitest';
import { describeWithPebble, type PebbleHandle, pebbleEnv, startPebble } from '../support/pebble.ts';

function getJson(url: string, ca: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) as Record<string, unknown> });
          } catch (err) {
            reject(err);
          }
        });
      })
      .on('error', reject);
  });
}

describeWithPebble('pebble harness', () => {
  it('starts Pebble, serves the directory, answers TXT records, stops cleanly', async () => {
    const pebble: PebbleHandle = await startPebble({ nonceReject: 0 });
    try {
      expect(pebble.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/);

      const ca = fs.readFileSync(pebble.caFile, 'utf8');
      const dir = await getJson(pebble.directoryUrl, ca);
      expect(dir.status).toBe(200);
      expect(dir.json).toHaveProperty('newNonce');
      expect(dir.json).toHaveProperty('newAccount');
      expect(dir.json).toHaveProperty('newOrder');

      // Without the CA, the TLS handshake must fail (the harness must not depend on global trust).
      await expect(getJson(pebble.directoryUrl, '')).rejects.toThrow();

      const host = '_acme-challenge.harness.example.test';
      const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
      resolver.setServers([pebble.dnsServer]);

      await pebble.setTxt(host, 'digest-value-1');
      const records = await resolver.resolveTxt(host);
      expect(records.map((r) => r.join(''))).toContain('digest-value-1');

      await pebble.clearTxt(host);
      const after = await resolver.resolveTxt(host).catch(() => [] as string[][]);
      expect(after.map((r) => r.join(''))).not.toContain('digest-value-1');

      // Every A query answers 127.0.0.1; AAAA is disabled so Pebble dials IPv4.
      expect(await resolver.resolve4('anything.example.test')).toEqual(['127.0.0.1']);

      const root = await pebble.rootsPem();
      expect(root).toContain('BEGIN CERTIFICATE');
      expect(new X509Certificate(root).ca).toBe(true);

      expect(pebbleEnv(pebble)).toEqual({
        NODE_EXTRA_CA_CERTS: pebble.caFile,
        CHALLENGE_DNS_SERVERS: pebble.dnsServer,
        CHALLENGE_HTTP_PORT: String(pebble.httpPort),
        CHALLENGE_TLS_PORT: String(pebble.tlsPort),
      });
    } finally {
      await pebble.stop();
    }
    expect(fs.existsSync(pebble.dir)).toBe(false);
    await expect(getJson(pebble.directoryUrl, '')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives each Pebble its own free validation ports, so two runs (or a service on 5001/5002) can share a machine', async () => {
    const a = await startPebble();
    try {
      const b = await startPebble();
      try {
        const ports = [a.httpPort, a.tlsPort, b.httpPort, b.tlsPort];
        const listeners = [
          a.directoryUrl,
          a.pebbleManagementUrl,
          a.managementUrl,
          b.directoryUrl,
          b.pebbleManagementUrl,
          b.managementUrl,
        ].map((u) => Number(new URL(u).port));
        expect(new Set([...ports, ...listeners]).size).toBe(ports.length + listeners.length);
        // Nothing listens on them yet: the test's own responders can bind every one.
        const servers = await Promise.all(ports.map(listen));
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
    }
  });
});

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server));
  });
}
