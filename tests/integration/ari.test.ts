import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAcmeClientGateway } from '../../core/acme/acme-client-gateway.ts';
import { ariCertId } from '../../core/domain/ari-cert-id.ts';
import { createCsr } from '../../core/domain/csr.ts';
import { generatePrivateKey } from '../../core/domain/key-spec.ts';
import type { AcmeAccount, AcmeGateway, AcmeOrder } from '../../core/ports/acme-gateway.ts';
import { type AriProxy, startAriProxy } from '../support/ari-proxy.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';

const H = 3_600_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Generous: a loaded 2-core machine slows Pebble's validation, never the ARI logic under test. */
const POLL_DEADLINE_MS = 20_000;

describeWithPebble('ARI (RFC 9773) through a proxy that adds renewalInfo to Pebble 2.4', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let proxy: AriProxy;
  let gateway: AcmeGateway;
  let account: AcmeAccount;
  let certPem: string;
  let certId: string;
  const name = 'ari.example.test';

  async function until(order: AcmeOrder, status: AcmeOrder['status']): Promise<AcmeOrder> {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    while (order.status !== status && order.status !== 'invalid' && Date.now() < deadline) {
      await sleep(50);
      order = await gateway.getOrder(account, order.url);
    }
    expect(order.status, JSON.stringify(order.error)).toBe(status);
    return order;
  }

  /** A whole dns-01 issuance over the gateway, every request through the proxy. */
  async function issue(domain: string, opts: { replaces?: string } = {}): Promise<string> {
    const order = await gateway.newOrder(account, [domain], opts);
    for (const url of order.authorizations) {
      let authz = await gateway.getAuthorization(account, url);
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === 'dns-01')!;
      const keyAuthorization = gateway.keyAuthorization(account, challenge.token);
      await pebble().setTxt(
        `_acme-challenge.${domain}`,
        createHash('sha256').update(keyAuthorization).digest('base64url'),
      );
      await gateway.answerChallenge(account, challenge.url);
      const deadline = Date.now() + POLL_DEADLINE_MS;
      while (authz.status === 'pending' && Date.now() < deadline) {
        await sleep(50);
        authz = await gateway.getAuthorization(account, url);
      }
      expect(authz.status, JSON.stringify(authz.challenges.find((c) => c.error)?.error)).toBe('valid');
    }
    const ready = await until(order, 'ready');
    const keyPem = await generatePrivateKey('ec-p256');
    const finalized = await gateway.finalize(account, ready, await createCsr(keyPem, domain, [domain]));
    const valid = await until(finalized, 'valid');
    return gateway.downloadCertificate(account, valid.certificate!);
  }

  beforeAll(async () => {
    proxy = await startAriProxy(pebble());
    gateway = createAcmeClientGateway({ caPem: readFileSync(proxy.caFile, 'utf8') });
    const accountKeyPem = await generatePrivateKey('ec-p256');
    const accountUrl = await gateway.createAccount({
      directoryUrl: proxy.directoryUrl,
      accountKeyPem,
      contact: [],
      termsOfServiceAgreed: true,
    });
    account = { directoryUrl: proxy.directoryUrl, accountKeyPem, accountUrl };
    certPem = await issue(name);
    certId = ariCertId(certPem);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('sends every ACME request through the proxy, which adds renewalInfo to the directory', async () => {
    expect(account.accountUrl.startsWith(new URL(proxy.directoryUrl).origin)).toBe(true);
    expect((await gateway.directory(proxy.directoryUrl)).renewalInfo).toBe(proxy.renewalInfoUrl);
    expect(proxy.requests).toEqual(
      expect.arrayContaining([
        '/dir',
        expect.stringMatching(/^\/order-plz/),
        expect.stringMatching(/^\/finalize-order\//),
      ]),
    );
    expect(proxy.orders[0]).toMatchObject({ identifiers: [{ type: 'dns', value: name }], status: 201 });
    expect(proxy.orders[0]).not.toHaveProperty('replaces');
  });

  it('reads the window the CA suggests for the issued certificate, with its explanation URL and Retry-After', async () => {
    const start = new Date('2030-01-01T00:00:00Z');
    const end = new Date('2030-01-03T12:00:00Z');
    proxy.setWindow(certId, { start, end, explanationUrl: 'https://ca.example.test/why' });
    proxy.setRetryAfter(5 * 3600);
    const before = proxy.requests.length;
    expect(await gateway.renewalInfo(proxy.directoryUrl, certPem)).toEqual({
      window: { start, end },
      explanationUrl: 'https://ca.example.test/why',
      retryAfterMs: 5 * H,
    });
    expect(proxy.requests.slice(before)).toEqual(expect.arrayContaining(['/dir', `/renewal-info/${certId}`]));
  });

  it('a window with end before start is no window', async () => {
    proxy.setWindow(certId, 'malformed');
    proxy.setRetryAfter(null);
    expect(await gateway.renewalInfo(proxy.directoryUrl, certPem)).toEqual({
      window: null,
      explanationUrl: null,
      retryAfterMs: 6 * H,
    });
  });

  it('clamps Retry-After to [1 h, 7 d] and uses 6 h when there is none', async () => {
    proxy.setWindow(certId, { start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-01-02T00:00:00Z') });
    const cases: [number | string | null, number][] = [
      [60, H],
      [30 * 86_400, 7 * 24 * H],
      [null, 6 * H],
      [new Date(Date.now() + 10 * 86_400_000).toUTCString(), 7 * 24 * H],
    ];
    for (const [header, expected] of cases) {
      proxy.setRetryAfter(header);
      expect((await gateway.renewalInfo(proxy.directoryUrl, certPem))?.retryAfterMs).toBe(expected);
    }
    // An HTTP-date inside the bounds: a little less than 2 h by the time it is read.
    proxy.setRetryAfter(new Date(Date.now() + 2 * H + 5_000).toUTCString());
    const ms = (await gateway.renewalInfo(proxy.directoryUrl, certPem))!.retryAfterMs;
    expect(ms).toBeGreaterThan(2 * H - 5_000);
    expect(ms).toBeLessThanOrEqual(2 * H + 5_000);
  });

  it('a 404 (the CA does not know the certificate) is no window, not an error', async () => {
    proxy.setWindow(certId, null);
    proxy.setRetryAfter(7200);
    expect(await gateway.renewalInfo(proxy.directoryUrl, certPem)).toEqual({
      window: null,
      explanationUrl: null,
      retryAfterMs: 2 * H,
    });
  });

  it('classifies renewalInfo failures like every other CA call', async () => {
    proxy.setRetryAfter(120);
    proxy.failRenewalInfo(429);
    await expect(gateway.renewalInfo(proxy.directoryUrl, certPem)).rejects.toMatchObject({
      code: 'acme_rate_limited',
      retryable: true,
      detail: { retryAfterMs: 120_000 },
    });
    proxy.failRenewalInfo(503);
    await expect(gateway.renewalInfo(proxy.directoryUrl, certPem)).rejects.toMatchObject({
      code: 'acme_error',
      retryable: true,
    });
    proxy.failRenewalInfo(null);
    await expect(gateway.renewalInfo(proxy.directoryUrl, 'not a certificate')).rejects.toMatchObject({
      code: 'input_invalid',
    });
  });

  it('returns null when the directory offers no renewalInfo (Pebble 2.4 directly)', async () => {
    expect((await gateway.directory(pebble().directoryUrl)).renewalInfo).toBeNull();
    expect(await gateway.renewalInfo(pebble().directoryUrl, certPem)).toBeNull();
  });

  it('sends replaces = the CertID on a renewal order, and Pebble 2.4 accepts the field', async () => {
    const before = proxy.orders.length;
    const renewed = await issue(name, { replaces: certId });
    expect(ariCertId(renewed)).not.toBe(certId);
    expect(proxy.orders.slice(before)).toEqual([
      { identifiers: [{ type: 'dns', value: name }], replaces: certId, status: 201 },
    ]);
  });

  it('on 409 alreadyReplaced, retries the same order once without replaces', async () => {
    proxy.rejectNextReplaces();
    const before = proxy.orders.length;
    const order = await gateway.newOrder(account, [name], { replaces: certId });
    expect(order.status).toBe('pending');
    expect(proxy.orders.slice(before)).toEqual([
      { identifiers: [{ type: 'dns', value: name }], replaces: certId, status: 409 },
      { identifiers: [{ type: 'dns', value: name }], status: 201 },
    ]);
  });

  it('does not retry an alreadyReplaced order that carried no replaces, nor other 409s', async () => {
    proxy.rejectNextReplaces(); // armed, but only an order with replaces trips it
    const before = proxy.orders.length;
    await gateway.newOrder(account, [name]);
    expect(proxy.orders.slice(before).map((o) => o.status)).toEqual([201]);
    // Still armed: the next order with replaces is refused once, then retried plainly.
    await gateway.newOrder(account, [name], { replaces: certId });
    expect(proxy.orders.slice(before + 1).map((o) => o.status)).toEqual([409, 201]);
  });
});
