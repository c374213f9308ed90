import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { type AcmeDnsFake, startAcmeDnsFake } from '../support/acme-dns-fake.ts';
import { describeWithBind, useBind } from '../support/bind-server.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/**
 * DNS-01 delegated to acme-dns: `_acme-challenge.<name>` is a CNAME (in a real BIND) to the account's
 * fulldomain; the fake acme-dns API takes the update and its DNS side is that BIND (the fake writes the last
 * two values there with nsupdate), which Pebble resolves through.
 */
const ZONE = 'example.test';
const ACME_DNS_ZONE = `auth.${ZONE}`;

for (const target of databaseTargets) {
  describeWithBind(`DNS-01 through acme-dns (fake API, BIND as its DNS), on ${target.kind}`, () => {
    describeWithPebble('issuance with a CNAME delegation', () => {
      const bind = useBind({
        keys: [{ name: 'zone-admin', algorithm: 'hmac-sha256' }],
        zones: [{ name: ZONE, updateRule: 'update-policy { grant zone-admin zonesub ANY; };' }],
      });
      const pebble = usePebble({ authzReuse: 0, dnsServer: () => bind().server });
      let database: Database;
      let core: TestCore;
      let acmeDns: AcmeDnsFake;
      const admin = () => bind().keys[0]!;

      beforeAll(async () => {
        database = await freshDatabase(target.open);
        core = await startTestCore(database, pebble(), undefined, {
          dns: { server: bind().server, authoritativePort: bind().port },
        });
        acmeDns = await startAcmeDnsFake({
          domain: ACME_DNS_ZONE,
          onTxt: (fulldomain, values) =>
            bind().nsupdate(admin(), [
              `update delete ${fulldomain}. TXT`,
              ...values.map((v) => `update add ${fulldomain}. 60 TXT "${v}"`),
            ]),
        });
        await core.services.profiles.create(
          { name: 'delegated', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          'test',
        );
      });
      afterAll(async () => {
        await core?.close();
        await database?.close();
        await acmeDns?.close();
      });

      it('registers once, names the CNAME to create, refuses to order without it, then issues wildcard + apex', async () => {
        const name = `app.${ZONE}`;
        await core.services.domains.add('delegated', [name, `*.${name}`], 'dns-01', 'test');
        const set = await core.services.domains.setDnsAcmeDns({ name }, { url: acmeDns.url }, 'test');
        const settings = set.domain.dnsPublisher;
        expect(settings?.kind).toBe('acme-dns');
        if (settings?.kind !== 'acme-dns') throw new Error('not acme-dns');
        expect(settings.fulldomain).toBe(`${settings.subdomain}.${ACME_DNS_ZONE}`);
        const record = `_acme-challenge.${name}. CNAME ${settings.fulldomain}.`;
        expect(set.delegation).toEqual({ record, problem: `_acme-challenge.${name} has no CNAME; create: ${record}` });
        const row = (await core.store.domains.findByName(name))[0]!;
        expect(row.dnsSecretSealed).toMatch(/^v1\./);
        const credentials = JSON.parse(
          core.deps.secrets.open(row.dnsSecretSealed!, `domains:${row.id}:dns_secret`),
        ) as { username: string; password: string };
        expect(credentials.password).toHaveLength(40);
        for (const secret of [credentials.username, credentials.password]) {
          expect(JSON.stringify(set)).not.toContain(secret);
          expect(JSON.stringify(await core.store.audit.list({ limit: 500 }))).not.toContain(secret);
        }

        // Set again with the same server: the account (and so the CNAME) stays.
        const again = await core.services.domains.setDnsAcmeDns({ name }, { url: acmeDns.url }, 'test');
        expect(again.domain.dnsPublisher).toEqual(settings);
        expect(acmeDns.requests.filter((r) => r.path === '/register')).toHaveLength(1);

        // The wildcard shares the record name, so it shares the account: the operator creates one CNAME.
        const wildcard = await core.services.domains.setDnsAcmeDns({ name: `*.${name}` }, { url: acmeDns.url }, 'test');
        expect(wildcard.domain.dnsPublisher).toEqual(settings);
        expect(acmeDns.requests.filter((r) => r.path === '/register')).toHaveLength(1);

        // No CNAME yet: refused before an order is created, naming the record.
        await expect(
          core.services.certificates.request({ profile: 'delegated', commonName: name, sans: [`*.${name}`] }, 'test'),
        ).rejects.toMatchObject({
          code: 'dns_delegation_missing',
          message: expect.stringContaining(`create: ${record}`),
        });
        const refused = await core.services.certificates.get(name);
        expect(refused.state).toBe('failed');
        expect(refused.orderUrl).toBeNull();
        expect(refused.serial).toBeNull();

        await bind().nsupdate(admin(), [`update add _acme-challenge.${name}. 60 CNAME ${settings.fulldomain}.`]);
        expect((await core.services.domains.showDns({ name })).delegation).toEqual({ record, problem: null });

        const issued = await core.services.certificates.resume(refused.name, 'test');
        expect(issued.state).toBe('issued');
        // Both values (wildcard and apex) were served together: acme-dns keeps the last two.
        expect(acmeDns.txt(settings.subdomain)).toHaveLength(2);
        expect(await bind().txt(settings.fulldomain)).toHaveLength(2);
      });

      it('Test Connection names a CNAME that points elsewhere, and credentials acme-dns no longer knows', async () => {
        const name = `other.${ZONE}`;
        await core.services.domains.add('delegated', [name], 'dns-01', 'test');
        const set = await core.services.domains.setDnsAcmeDns({ name }, { url: acmeDns.url }, 'test');
        const settings = set.domain.dnsPublisher;
        if (settings?.kind !== 'acme-dns') throw new Error('not acme-dns');
        await bind().nsupdate(admin(), [`update add _acme-challenge.${name}. 60 CNAME wrong.${ACME_DNS_ZONE}.`]);
        const wrong = await core.services.domains.test({ name }, 'test');
        expect(wrong.outcome).toBe('unreachable');
        expect(wrong.detail).toBe(
          `_acme-challenge.${name} is a CNAME to wrong.${ACME_DNS_ZONE}, not to ${settings.fulldomain}; change it to: _acme-challenge.${name}. CNAME ${settings.fulldomain}.`,
        );

        await bind().nsupdate(admin(), [
          `update delete _acme-challenge.${name}. CNAME`,
          `update add _acme-challenge.${name}. 60 CNAME ${settings.fulldomain}.`,
        ]);
        acmeDns.forgetAccounts();
        const forgotten = await core.services.domains.test({ name }, 'test');
        expect(forgotten.outcome).toBe('unreachable');
        expect(forgotten.detail).toMatch(/refused the account's credentials \(HTTP 401, forbidden\)/);
      });

      it('the fake keeps the real API: 43-character TXT only, 401 for bad credentials, health', async () => {
        const register = await fetch(`${acmeDns.url}/register`, { method: 'POST' });
        expect(register.status).toBe(201);
        const account = (await register.json()) as Record<string, string>;
        const update = (txt: string, key = account['password']!) =>
          fetch(`${acmeDns.url}/update`, {
            method: 'POST',
            headers: { 'X-Api-User': account['username']!, 'X-Api-Key': key },
            body: JSON.stringify({ subdomain: account['subdomain'], txt }),
          });
        expect((await update('short')).status).toBe(400);
        expect((await update('a'.repeat(43), 'wrong')).status).toBe(401);
        for (const c of ['a', 'b', 'c']) expect((await update(c.repeat(43))).status).toBe(200);
        expect(acmeDns.txt(account['subdomain']!)).toEqual(['b'.repeat(43), 'c'.repeat(43)]);
        expect((await fetch(`${acmeDns.url}/health`)).status).toBe(200);
      });
    });
  });
}
