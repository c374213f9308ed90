import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certificateMatchesKey } from '../../core/domain/certificate-facts.ts';
import { splitPemChain } from '../../core/domain/x509.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

for (const target of databaseTargets) {
  for (const nonceReject of [0, 20]) {
    describeWithPebble(`issuance on ${target.kind} with PEBBLE_WFE_NONCEREJECT=${nonceReject}`, () => {
      // AUTHZREUSE=0: every certificate order brings fresh authorizations that must be answered again.
      const pebble = usePebble({ nonceReject, authzReuse: 0 });
      let database: Database;
      let core: TestCore;
      const tag = `n${nonceReject}${target.kind === 'postgres' ? 'pg' : 'pl'}`;
      const name = (label: string) => `${label}.${tag}.example.test`;

      beforeAll(async () => {
        database = await freshDatabase(target.open);
        core = await startTestCore(database, pebble());
        const { profiles } = core.services;
        await profiles.create(
          {
            name: 'ec',
            server: pebble().directoryUrl,
            keySpec: 'ec-p256',
            acceptTos: true,
            contact: ['ops@example.com'],
          },
          'test',
        );
        await profiles.create(
          { name: 'rsa', server: pebble().directoryUrl, keySpec: 'rsa-2048', acceptTos: true },
          'test',
        );
        await profiles.create(
          { name: 'ec384', server: pebble().directoryUrl, keySpec: 'ec-p384', acceptTos: true },
          'test',
        );
      });
      afterAll(async () => {
        await core?.close();
        await database?.close();
      });

      it('issues an ECDSA P-256 certificate for one name over http-01', async () => {
        await core.services.domains.add('ec', [name('single')], 'http-01', 'test');
        const cert = await core.services.certificates.request({ profile: 'ec', commonName: name('single') }, 'test');
        expect(cert.state).toBe('issued');
        expect(cert.sans).toEqual([]);
        const leaf = new X509Certificate(splitPemChain(cert.chainPem!)[0]!);
        expect(leaf.subjectAltName).toBe(`DNS:${name('single')}`);
        expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
        expect(cert.serial).toBe(leaf.serialNumber.toLowerCase());
        expect(cert.fingerprintSha256).toBe(leaf.fingerprint256);
        expect(cert.notAfter?.getTime()).toBe(new Date(leaf.validTo).getTime());
        const { keyPem } = await core.services.certificates.export(cert.name, { includeKey: true }, 'test');
        expect(certificateMatchesKey(cert.chainPem!, keyPem!)).toBe(true);
      });

      it('issues an RSA certificate whose names use http-01, tls-alpn-01 and dns-01, waiting for DNS content', async () => {
        const [web, tls, dns] = [name('web'), name('tls'), name('dns')];
        await core.services.domains.add('rsa', [web], 'http-01', 'test');
        await core.services.domains.add('rsa', [tls], 'tls-alpn-01', 'test');
        await core.services.domains.add('rsa', [dns], 'dns-01', 'test');

        // The order's fresh dns-01 authorization has new content nobody published yet: the request waits.
        const waiting = await core.services.certificates.request(
          { profile: 'rsa', commonName: web, sans: [tls, dns], keySpec: 'rsa-2048', passphrase: 'correct horse' },
          'test',
        );
        expect(waiting.state).toBe('awaiting_challenge');
        expect(waiting.problem?.detail).toContain(dns);

        const content = await core.services.domains.challenge({ name: dns });
        await pebble().setTxt(`_acme-challenge.${dns}`, content.dns!.value);
        const cert = await core.services.certificates.resume(waiting.name, 'test');
        expect(cert.state).toBe('issued');
        expect(cert.orderAttempts).toBe(1);

        const chain = splitPemChain(cert.chainPem!);
        expect(chain.length).toBeGreaterThanOrEqual(2);
        const leaf = new X509Certificate(chain[0]!);
        expect(leaf.subjectAltName?.split(', ').sort()).toEqual([`DNS:${dns}`, `DNS:${tls}`, `DNS:${web}`]);
        expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(leaf.checkIssued(new X509Certificate(chain[1]!))).toBe(true);
        const { keyPem } = await core.services.certificates.export(cert.name, { includeKey: true }, 'test');
        expect(createPrivateKey(keyPem!).asymmetricKeyType).toBe('rsa');
        const domains = await core.services.domains.list('rsa');
        expect(domains.map((d) => d.status)).toEqual(['valid', 'valid', 'valid']);
      });

      it('issues a P-384 wildcard certificate over dns-01 after Test Connection', async () => {
        const wildcard = `*.${name('wild')}`;
        const [added] = await core.services.domains.add('ec384', [wildcard], 'dns-01', 'test');
        const before = await core.services.domains.test({ name: wildcard }, 'test');
        expect(before.outcome).toBe('unreachable');
        expect(before.detail).toContain(`_acme-challenge.${name('wild')}`);
        await pebble().setTxt(`_acme-challenge.${name('wild')}`, added!.dns!.value);
        const tested = await core.services.domains.test({ name: wildcard }, 'test');
        expect(tested.outcome).toBe('valid');
        expect((await core.services.domains.test({ name: wildcard }, 'test')).outcome).toBe('already_valid');

        // Pebble sometimes hands back the domain's own (now ready) order for the same name; otherwise the
        // certificate order brings a new dns-01 authorization whose value must be published first.
        let issued = await core.services.certificates.request({ profile: 'ec384', commonName: wildcard }, 'test');
        if (issued.state === 'awaiting_challenge') {
          const fresh = await core.services.domains.challenge({ name: wildcard });
          await pebble().setTxt(`_acme-challenge.${name('wild')}`, fresh.dns!.value);
          issued = await core.services.certificates.resume(issued.name, 'test');
        }
        expect(issued.state).toBe('issued');
        expect(issued.name).toBe(`wildcard.${name('wild')}`);
        const leaf = new X509Certificate(splitPemChain(issued.chainPem!)[0]!);
        expect(leaf.subjectAltName).toBe(`DNS:${wildcard}`);
        expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
      });

      it('Test Connection validates http-01 and tls-alpn-01 through the responder and records the status', async () => {
        await core.services.domains.add('ec', [name('t-http')], 'http-01', 'test');
        await core.services.domains.add('ec', [name('t-tls')], 'tls-alpn-01', 'test');
        for (const n of [name('t-http'), name('t-tls')]) {
          const result = await core.services.domains.test({ name: n }, 'test');
          expect(result.outcome, result.detail).toBe('valid');
          expect(result.domain.status).toBe('valid');
        }
        const audit = await core.store.audit.list({ limit: 500 });
        expect(
          audit.some((e) => e.action === 'domain.test' && e.objectName === name('t-tls') && e.result === 'ok'),
        ).toBe(true);
      });

      it('keeps no private key or passphrase in plaintext in any column', async () => {
        const { sql } = await import('drizzle-orm');
        const db = database.db as unknown as { execute(q: unknown): Promise<{ rows: Record<string, unknown>[] }> };
        const tables = ['profiles', 'domains', 'authorizations', 'certificates', 'audit_log'];
        let sealedSeen = 0;
        for (const table of tables) {
          const { rows } = await db.execute(sql.raw(`SELECT row_to_json(t)::text AS j FROM ${table} t`));
          for (const row of rows) {
            const text = String(row.j);
            expect(text).not.toMatch(/PRIVATE KEY/);
            expect(text).not.toContain('correct horse');
            sealedSeen += (text.match(/"v1\.[0-9a-f]{16}\./g) ?? []).length;
          }
        }
        // Account keys (3 profiles), certificate keys, TLS-ALPN keys and the passphrase are all sealed.
        expect(sealedSeen).toBeGreaterThan(8);
      });
    });
  }
}
