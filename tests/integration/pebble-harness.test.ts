import { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import * as https from 'node:https';
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
    const t0 = Date.now();
    const pebble: PebbleHandle = await startPebble({ nonceReject: 0 });
    const startMs = Date.now() - t0;
    try {
      expect(startMs).toBeLessThan(15_000);
      expect(pebble.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/);
      expect(pebble.httpPort).toBe(5002);
      expect(pebble.tlsPort).toBe(5001);

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
        CHALLENGE_HTTP_PORT: '5002',
        CHALLENGE_TLS_PORT: '5001',
      });
    } finally {
      await pebble.stop();
    }
    expect(fs.existsSync(pebble.dir)).toBe(false);
    await expect(getJson(pebble.directoryUrl, '')).rejects.toThrow(/ECONNREFUSED/);
  });
});
