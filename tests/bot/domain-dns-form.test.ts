import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DNS_BLOCKS, DOMAIN_DNS_VIEW } from '../../bot/modals/domain-dns.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * `/acme domain dns NAME` over the real Bolt receiver: the form opens for the resolved domain, missing and bad
 * input is refused inline on the right field, RFC 2136 settings are saved with the secret sealed and never
 * echoed, and the method can be cleared.
 */
describe('/acme domain dns form', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  it('opens, refuses bad input inline, saves RFC 2136 without echoing the secret, clears', async () => {
    const profile = makeProfile({ name: 'prod' });
    await h.store.profiles.insert(profile);
    const domain = makeDomain(profile.id, { name: 'www.example.com', challengeType: 'dns-01' });
    await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));

    await h.command('domain dns www.example.com');
    const [open] = await h.stub.waitForApi('views.open');
    const view = open!['view'] as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(DOMAIN_DNS_VIEW);
    expect(JSON.parse(view.private_metadata)).toEqual({ d: 'www.example.com', p: 'prod' });

    const submit = (fields: { mode: string; server?: string; key?: string; secret?: string; zone?: string }) =>
      h.submitView(
        DOMAIN_DNS_VIEW,
        {
          [DNS_BLOCKS.mode]: { mode: { selected: fields.mode } },
          [DNS_BLOCKS.server]: { server: fields.server ?? '' },
          [DNS_BLOCKS.zone]: { zone: fields.zone ?? '' },
          [DNS_BLOCKS.keyName]: { key: fields.key ?? '' },
          [DNS_BLOCKS.algorithm]: { algorithm: { selected: 'hmac-sha384' } },
          [DNS_BLOCKS.secret]: { secret: fields.secret ?? '' },
          [DNS_BLOCKS.acmeDnsUrl]: { url: '' },
        },
        { privateMetadata: view.private_metadata },
      );

    const missing = await submit({ mode: 'rfc2136', server: 'ns1.example.com' });
    expect(missing.json?.['response_action']).toBe('errors');
    expect(Object.keys(missing.json?.['errors'] as object).sort()).toEqual(
      [DNS_BLOCKS.keyName, DNS_BLOCKS.secret].sort(),
    );

    const badSecret = await submit({ mode: 'rfc2136', server: 'ns1.example.com', key: 'k1', secret: 'not base64!' });
    expect(badSecret.json?.['errors']).toEqual({
      [DNS_BLOCKS.secret]: 'the TSIG secret must be base64 (as tsig-keygen prints it)',
    });
    const badServer = await submit({
      mode: 'rfc2136',
      server: 'ns1 example',
      key: 'k1',
      secret: 'c2VjcmV0c2VjcmV0c2VjcmV0',
    });
    expect(Object.keys(badServer.json?.['errors'] as object)).toEqual([DNS_BLOCKS.server]);

    const secret = randomBytes(32).toString('base64');
    const good = await submit({
      mode: 'rfc2136',
      server: 'ns1.example.com:5353',
      key: 'acme-www',
      secret,
      zone: 'example.com',
    });
    expect(good.json?.['response_action']).toBe('update');
    expect(JSON.stringify(good.json)).toContain('ns1.example.com:5353');
    expect(JSON.stringify(good.json)).not.toContain(secret);
    const saved = (await h.store.domains.findByName('www.example.com'))[0]!;
    expect(saved.dnsPublisher).toEqual({
      kind: 'rfc2136',
      server: 'ns1.example.com:5353',
      zone: 'example.com',
      keyName: 'acme-www',
      algorithm: 'hmac-sha384',
    });
    expect(saved.dnsSecretSealed).toMatch(/^v1\./);

    // Opening again shows the settings, never the secret.
    await h.command('domain dns www.example.com');
    const reopened = (await h.stub.waitForApi('views.open', 2))[1]!;
    expect(JSON.stringify(reopened)).toContain('acme-www');
    expect(JSON.stringify(reopened)).not.toContain(secret);

    const cleared = await submit({ mode: 'clear' });
    expect(cleared.json?.['response_action']).toBe('update');
    expect((await h.store.domains.findByName('www.example.com'))[0]!.dnsPublisher).toBeNull();
  });

  it('refuses a DNS method on an http-01 domain, naming why', async () => {
    const profile = makeProfile({ name: 'prod' });
    await h.store.profiles.insert(profile);
    const domain = makeDomain(profile.id, { name: 'web.example.com', challengeType: 'http-01' });
    await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    await h.command('domain dns web.example.com');
    const [open] = await h.stub.waitForApi('views.open');
    const res = await h.submitView(
      DOMAIN_DNS_VIEW,
      {
        [DNS_BLOCKS.mode]: { mode: { selected: 'rfc2136' } },
        [DNS_BLOCKS.server]: { server: 'ns1.example.com' },
        [DNS_BLOCKS.keyName]: { key: 'k' },
        [DNS_BLOCKS.secret]: { secret: randomBytes(32).toString('base64') },
      },
      { privateMetadata: (open!['view'] as { private_metadata: string }).private_metadata },
    );
    expect(res.json?.['errors']).toEqual({
      [DNS_BLOCKS.mode]: 'web.example.com uses http-01; a DNS method publishes dns-01 content only',
    });
  });
});
