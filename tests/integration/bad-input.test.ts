import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

const pglite = databaseTargets[0]!;

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected CoreError ${code}`).toBeInstanceOf(CoreError);
  expect((err as CoreError).code).toBe(code);
  expect((err as CoreError).message).toMatch(message);
}

describeWithPebble('bad input gets a clear error and writes nothing', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  let counts: () => Promise<Record<string, number>>;
  let before: Record<string, number>;
  let brokenCa: Server;
  let brokenCaUrl: string;

  beforeAll(async () => {
    database = await freshDatabase(pglite.open);
    core = await startTestCore(database, pebble());
    const { profiles, domains } = core.services;
    await profiles.create({ name: 'main', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true }, 'test');
    await profiles.create(
      { name: 'other', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    await domains.add('main', ['good.example.test'], 'http-01', 'test');
    await domains.add('other', ['theirs.example.test'], 'http-01', 'test');
    counts = async () => ({
      profiles: (await core.store.profiles.list()).length,
      domains: (await core.services.domains.list()).length,
      certificates: (await core.store.certificates.list()).length,
    });
    // A CA that answers every request with an RFC 7807 problem, as a CA in trouble does.
    brokenCa = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'maintenance' }));
    });
    await new Promise<void>((resolve) => brokenCa.listen(0, '127.0.0.1', resolve));
    brokenCaUrl = `http://127.0.0.1:${(brokenCa.address() as AddressInfo).port}/dir`;
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await new Promise((r) => brokenCa?.close(r));
  });
  beforeEach(async () => {
    before = await counts();
  });
  const nothingWritten = async () => expect(await counts()).toEqual(before);

  it('refuses an invalid domain name', async () => {
    await rejects(
      core.services.domains.add('main', ['bad..example.test'], 'http-01', 'test'),
      'domain_invalid',
      /bad\.\.example\.test/,
    );
    await rejects(
      core.services.domains.add('main', ['exa mple.test'], 'http-01', 'test'),
      'domain_invalid',
      /exa mple/,
    );
    await nothingWritten();
  });

  it('refuses a wildcard without dns-01, and writes none of a batch with one bad name', async () => {
    await rejects(
      core.services.domains.add('main', ['*.wild.example.test'], 'http-01', 'test'),
      'domain_invalid',
      /wildcard needs the dns-01/,
    );
    await rejects(
      core.services.domains.add('main', ['fine.example.test', '*.wild.example.test'], 'tls-alpn-01', 'test'),
      'domain_invalid',
      /dns-01/,
    );
    await nothingWritten();
  });

  it('refuses an unknown profile', async () => {
    await rejects(
      core.services.domains.add('nope', ['x.example.test'], 'http-01', 'test'),
      'not_found',
      /no profile named "nope"/,
    );
    await rejects(
      core.services.certificates.request({ profile: 'nope', commonName: 'good.example.test' }, 'test'),
      'not_found',
      /nope/,
    );
    await nothingWritten();
  });

  it('refuses to create a profile without ToS acceptance, naming the terms', async () => {
    await rejects(
      core.services.profiles.create(
        { name: 'no-tos', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: false },
        'test',
      ),
      'tos_not_accepted',
      /terms of service.*data:text\/plain/,
    );
    await nothingWritten();
  });

  it('refuses a key type that does not match the profile', async () => {
    await rejects(
      core.services.certificates.request(
        { profile: 'main', commonName: 'good.example.test', keySpec: 'rsa-2048' },
        'test',
      ),
      'key_mismatch',
      /RSA 2048 does not match profile "main", which uses ECDSA P-256/,
    );
    await nothingWritten();
  });

  it('refuses a SAN that belongs to another profile, or to none', async () => {
    await rejects(
      core.services.certificates.request(
        { profile: 'main', commonName: 'good.example.test', sans: ['theirs.example.test'] },
        'test',
      ),
      'domain_foreign',
      /"theirs\.example\.test" belongs to another profile/,
    );
    await rejects(
      core.services.certificates.request({ profile: 'main', commonName: 'stranger.example.test' }, 'test'),
      'domain_foreign',
      /not a domain of profile "main"/,
    );
    await nothingWritten();
  });

  it('reports an unreachable CA', async () => {
    await rejects(
      core.services.profiles.create(
        { name: 'down', server: 'https://127.0.0.1:1/dir', keySpec: 'ec-p256', acceptTos: true },
        'test',
      ),
      'acme_unreachable',
      /cannot reach the CA at https:\/\/127\.0\.0\.1:1.*ECONNREFUSED/,
    );
    await nothingWritten();
  });

  it('reports a CA that answers with an error', async () => {
    await rejects(
      core.services.profiles.create(
        { name: 'broken', server: brokenCaUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      ),
      'acme_error',
      /not an ACME directory \(HTTP 503/,
    );
    await nothingWritten();
  });

  it('refuses to change locked profile fields', async () => {
    await rejects(
      core.services.profiles.update('main', { keySpec: 'rsa-4096' }, 'test'),
      'locked_field',
      /keySpec cannot change/,
    );
    await rejects(
      core.services.profiles.update('main', { directoryUrl: 'staging' }, 'test'),
      'locked_field',
      /directoryUrl/,
    );
    await rejects(core.services.profiles.update('main', { renewDaysBefore: 0 }, 'test'), 'input_invalid', /1 to 365/);
    await rejects(
      core.services.profiles.update('main', { deployTimeZone: 'Mars/Olympus' }, 'test'),
      'input_invalid',
      /IANA/,
    );
    expect((await core.services.profiles.show('main')).renewDaysBefore).toBe(7);
    const updated = await core.services.profiles.update(
      'main',
      { renewDaysBefore: 14, deployTime: '03:30', autoDeploy: false },
      'test',
    );
    expect(updated).toMatchObject({ renewDaysBefore: 14, deployTime: '03:30', autoDeploy: false });
  });
});
