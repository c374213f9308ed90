import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { type BindHandle, describeWithBind, useBind } from '../support/bind-server.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/**
 * DNS-01 with no person: the core writes the TXT values into a real BIND 9 by RFC 2136 updates signed with
 * TSIG, Pebble validates through that BIND, and the values are deleted again. The zone's update-policy grants
 * each key exactly one name's TXT records, as the README recommends.
 */
const ZONE = 'example.test';
const keys = [
  { name: 'acme-example-test', algorithm: 'hmac-sha256' as const },
  { name: 'acme-refused-other', algorithm: 'hmac-sha512' as const },
  { name: 'acme-sha384', algorithm: 'hmac-sha384' as const },
];
const updatePolicy = [
  'update-policy {',
  `  grant acme-example-test name _acme-challenge.${ZONE}. TXT;`,
  `  grant acme-refused-other name _acme-challenge.elsewhere.${ZONE}. TXT;`,
  `  grant acme-sha384 name _acme-challenge.sha384.${ZONE}. TXT;`,
  '};',
].join(' ');

for (const target of databaseTargets) {
  describeWithBind(`DNS-01 by RFC 2136 + TSIG into BIND, on ${target.kind}`, () => {
    describeWithPebble('issuance with no manual step', () => {
      const bind = useBind({ keys, zones: [{ name: ZONE, updateRule: updatePolicy }] });
      const pebble = usePebble({ authzReuse: 0, dnsServer: () => bind().server });
      let database: Database;
      let core: TestCore;
      const key = (name: string) => bind().keys.find((k) => k.name === name)!;
      const setRfc2136 = (domain: string, keyName: string, secret: string, zone?: string) =>
        core.services.domains.setDnsRfc2136(
          { name: domain },
          { server: bind().server, zone, keyName, algorithm: key(keyName)?.algorithm ?? 'hmac-sha256', secret },
          'test',
        );
      const txt = (b: BindHandle, name: string) => b.txt(`_acme-challenge.${name}`);

      beforeAll(async () => {
        database = await freshDatabase(target.open);
        core = await startTestCore(database, pebble(), undefined, {
          dns: { server: bind().server, authoritativePort: bind().port },
        });
        await core.services.profiles.create(
          { name: 'dns', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          'test',
        );
      });
      afterAll(async () => {
        await core?.close();
        await database?.close();
      });

      it('issues a wildcard + apex certificate, renews it, and leaves no TXT record behind', async () => {
        await core.services.domains.add('dns', [ZONE, `*.${ZONE}`], 'dns-01', 'test');
        const secret = key('acme-example-test').secret;
        // The zone is found from the SOA for one, named for the other.
        await setRfc2136(ZONE, 'acme-example-test', secret);
        const view = await setRfc2136(`*.${ZONE}`, 'acme-example-test', `${secret}\n`, ZONE);
        expect(view.dnsPublisher).toEqual({
          kind: 'rfc2136',
          server: bind().server,
          zone: ZONE,
          keyName: 'acme-example-test',
          algorithm: 'hmac-sha256',
        });
        expect(JSON.stringify(view)).not.toContain(secret);

        const progress: string[] = [];
        const cert = await core.services.certificates.request(
          { profile: 'dns', commonName: ZONE, sans: [`*.${ZONE}`] },
          'test',
          (line) => progress.push(line),
        );
        expect(cert.state, progress.join('\n')).toBe('issued');
        expect(await txt(bind(), ZONE)).toEqual([]);

        const renewed = await core.services.certificates.renew(cert.name, 'test');
        expect(renewed.state).toBe('issued');
        expect(renewed.renewalState).toBeNull();
        expect(renewed.serial).not.toBe(cert.serial);
        expect(await txt(bind(), ZONE)).toEqual([]);

        // Sealed at rest; never in the audit trail.
        const [row] = await core.store.domains.findByName(ZONE);
        expect(row?.dnsSecretSealed).toMatch(/^v1\./);
        expect(row?.dnsSecretSealed).not.toContain(secret);
        const audit = await core.store.audit.list({ limit: 500 });
        expect(JSON.stringify(audit)).not.toContain(secret);
      });

      it('Test Connection adds and deletes a test TXT value, then validates (hmac-sha384)', async () => {
        const domain = `sha384.${ZONE}`;
        await core.services.domains.add('dns', [domain], 'dns-01', 'test');
        await setRfc2136(domain, 'acme-sha384', key('acme-sha384').secret, ZONE);
        const result = await core.services.domains.test({ name: domain }, 'test');
        expect(result.outcome, result.detail).toBe('valid');
        expect(await txt(bind(), domain)).toEqual([]);
      });

      it('refuses a wrong TSIG secret with BADSIG named, and issues nothing', async () => {
        const domain = `bad.${ZONE}`;
        await core.services.domains.add('dns', [domain], 'dns-01', 'test');
        await setRfc2136(domain, 'acme-example-test', randomBytes(32).toString('base64'), ZONE);

        const tested = await core.services.domains.test({ name: domain }, 'test');
        expect(tested.outcome).toBe('unreachable');
        expect(tested.detail).toMatch(/TSIG BADSIG, the secret of TSIG key acme-example-test does not match/);
        expect(tested.domain.status).toBe('pending'); // the CA was asked nothing

        const cert = await core.services.certificates.request({ profile: 'dns', commonName: domain }, 'test');
        expect(cert.state).toBe('awaiting_challenge');
        expect(cert.problem?.detail).toMatch(/TSIG BADSIG/);
        expect(cert.serial).toBeNull();
        expect(await txt(bind(), domain)).toEqual([]);
      });

      it('names REFUSED when the key may not update the name, and NOTZONE for a wrong zone', async () => {
        const domain = `refused.${ZONE}`;
        await core.services.domains.add('dns', [domain], 'dns-01', 'test');
        await setRfc2136(domain, 'acme-refused-other', key('acme-refused-other').secret);
        const refused = await core.services.domains.test({ name: domain }, 'test');
        expect(refused.outcome).toBe('unreachable');
        expect(refused.detail).toMatch(
          /answered REFUSED: key acme-refused-other may not update the TXT records of _acme-challenge\.refused\.example\.test/,
        );

        await setRfc2136(domain, 'acme-refused-other', key('acme-refused-other').secret, 'sub.refused.example.test');
        const notZone = await core.services.domains.test({ name: domain }, 'test');
        expect(notZone.detail).toMatch(/NOTAUTH|NOTZONE/);
      });

      it('names BADKEY for a key the server does not know', async () => {
        const domain = `badkey.${ZONE}`;
        await core.services.domains.add('dns', [domain], 'dns-01', 'test');
        await setRfc2136(domain, 'no-such-key', key('acme-example-test').secret, ZONE);
        const result = await core.services.domains.test({ name: domain }, 'test');
        expect(result.detail).toMatch(/TSIG BADKEY, the server does not know TSIG key no-such-key/);
      });
    });
  });
}
