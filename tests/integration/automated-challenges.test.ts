import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChallengePayload } from '../../core/domain/challenge-payload.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => resolve(body));
  });
}

for (const target of databaseTargets) {
  describeWithPebble(`automated challenges through API endpoints on ${target.kind}: no manual step`, () => {
    const pebble = usePebble({ authzReuse: 0 });
    /** The built-in responder, on the free port Pebble validates http-01 against (known once Pebble runs). */
    const responderUrl = () => `http://127.0.0.1:${pebble().httpPort}`;
    let database: Database;
    let core: TestCore;
    let dnsEndpoint: Server;
    let dnsEndpointUrl: string;
    const received: { authorization: string | undefined; payload: ChallengePayload }[] = [];
    const name = (label: string) => `${label}.${target.kind}.example.test`;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      core = await startTestCore(database, pebble());
      await core.services.profiles.create(
        { name: 'auto', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      );
      // A DNS provider's API as a web hook: it takes the seed's dns payload and writes the TXT record.
      dnsEndpoint = createServer(async (req, res) => {
        const payload = JSON.parse(await readBody(req)) as ChallengePayload;
        received.push({ authorization: req.headers.authorization, payload });
        const domain = decodeURIComponent(req.url!.split('/').pop()!);
        for (const entry of payload.challenges) {
          if (entry.type === 'dns')
            await pebble().setTxt(`_acme-challenge.${domain.replace(/^\*\./, '')}`, entry.content);
        }
        res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => dnsEndpoint.listen(0, '127.0.0.1', resolve));
      dnsEndpointUrl = `http://127.0.0.1:${(dnsEndpoint.address() as AddressInfo).port}/txt`;
    });
    afterAll(async () => {
      await core?.close();
      await database?.close();
      await new Promise((r) => dnsEndpoint?.close(r));
    });

    it('issues over http-01 with the built-in responder as the endpoint', async () => {
      const domain = name('hook-http');
      await core.services.domains.add('auto', [domain], 'http-01', 'test');
      const view = await core.services.domains.useBuiltinEndpoint({ name: domain }, responderUrl(), 'test');
      expect(view.endpointUrl).toBe(`${responderUrl()}/challenge-hook/${domain}`);
      expect(view).not.toHaveProperty('endpointPasswordSealed');
      expect(view).not.toHaveProperty('endpointPasswordVerifier');

      const cert = await core.services.certificates.request({ profile: 'auto', commonName: domain }, 'test');
      expect(cert.state).toBe('issued');
      const published = await core.store.hookChallenges.list(domain);
      expect(published.map((p) => p.type)).toEqual(['http']);
    });

    it('issues over tls-alpn-01 with the built-in responder as the endpoint, the key sealed', async () => {
      const domain = name('hook-tls');
      await core.services.domains.add('auto', [domain], 'tls-alpn-01', 'test');
      await core.services.domains.useBuiltinEndpoint({ name: domain }, responderUrl(), 'test');
      const cert = await core.services.certificates.request({ profile: 'auto', commonName: domain }, 'test');
      expect(cert.state).toBe('issued');
      const [published] = await core.store.hookChallenges.list(domain);
      expect(published?.type).toBe('tls');
      expect(published?.keySealed).toMatch(/^v1\./);
      expect(JSON.stringify(published)).not.toContain('PRIVATE KEY');
    });

    it('issues over dns-01 through an endpoint that writes the TXT record, with Basic auth', async () => {
      const domain = name('hook-dns');
      await core.services.domains.add('auto', [domain], 'dns-01', 'test');
      await core.services.domains.setEndpoint(
        { name: domain },
        { url: `${dnsEndpointUrl}/${domain}`, username: 'dns-bot', password: 'a long enough secret' },
        'test',
      );
      const cert = await core.services.certificates.request({ profile: 'auto', commonName: domain }, 'test');
      expect(cert.state).toBe('issued');
      const last = received.at(-1)!;
      expect(last.authorization).toBe(`Basic ${Buffer.from('dns-bot:a long enough secret').toString('base64')}`);
      expect(last.payload.challenges[0]?.type).toBe('dns');
    });

    it('Deploy & Test publishes to the endpoint, then validates', async () => {
      const domain = name('deploy-test');
      await core.services.domains.add('auto', [domain], 'http-01', 'test');
      await core.services.domains.useBuiltinEndpoint({ name: domain }, responderUrl(), 'test');
      const result = await core.services.domains.deployAndTest({ name: domain }, 'test');
      expect(result.outcome).toBe('valid');
      expect(result.published).toContain('published to');
    });

    it('refuses an endpoint on a cloud-metadata address and says so, asking nothing of the CA', async () => {
      const domain = name('metadata');
      await core.services.domains.add('auto', [domain], 'http-01', 'test');
      await core.services.domains.setEndpoint(
        { name: domain },
        { url: 'http://169.254.169.254/latest', username: 'u', password: 'twelve chars!' },
        'test',
      );
      const result = await core.services.domains.deployAndTest({ name: domain }, 'test');
      expect(result.outcome).toBe('unreachable');
      expect(result.detail).toMatch(/169\.254\.169\.254/);
      expect((await core.services.domains.show({ name: domain })).domain.status).toBe('pending');
    });
  });
}
