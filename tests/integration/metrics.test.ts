import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { type Responder, startResponder } from '../../responder/start.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { parsePrometheusText, type Sample, samples, sampleValue } from '../support/prometheus-text.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

const seconds = (at: Date | null | undefined) => (at ? at.getTime() / 1000 : undefined);

// What /metrics says through a real lifecycle: issued against Pebble, deployed to a simulated BIG-IP, renewed,
// and things going wrong (a deploy the device refuses, a renewal nobody can validate, an expired certificate).
for (const target of databaseTargets) {
  describeWithPebble(`/metrics follows the certificate lifecycle on ${target.kind}`, () => {
    const pebble = usePebble({ authzReuse: 0 });
    let database: Database;
    let core: TestCore;
    let sim: BigIpSimulator;
    let responder: Responder;
    let base: string;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      core = await startTestCore(database, pebble());
      sim = await startBigIpSimulator({ hostname: 'bigip-a.example.test' });
      sim.addProfile('/Common/acme_shop', { defaultsFrom: '/Common/clientssl' });
      await core.services.devices.add(
        { name: 'bigip-a', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
        'test',
      );
      // The responder as `serve` starts it, on a free port, without the scrape cache so each scrape reads anew.
      responder = await startResponder({
        store: core.store,
        database,
        secrets: null,
        http: { host: '127.0.0.1', port: 0 },
        tlsAlpn: null,
        metricsCacheMs: 0,
      });
      base = `http://127.0.0.1:${(responder.http.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await responder?.close();
      await core?.close();
      await sim?.close();
      await database?.close();
    });

    let lastText = '';
    async function scrape(): Promise<Sample[]> {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      lastText = await res.text();
      return parsePrometheusText(lastText);
    }
    const ready = (all: Sample[], name: string) =>
      Object.fromEntries(
        samples(all, 'bigip_acme_certificate_ready_status', { name }).map((s) => [s.labels.condition, s.value]),
      );

    it('issue, deploy, renew, a refused deploy, a failing renewal and an expired certificate, each as the metrics say', async () => {
      const { services, store } = core;
      const empty = await scrape();
      expect(samples(empty, 'bigip_acme_certificate_ready_status')).toEqual([]);
      expect(sampleValue(empty, 'bigip_acme_deploys_total', { result: 'succeeded' })).toBe(0);
      expect(sampleValue(empty, 'bigip_acme_renewals_total', { result: 'succeeded' })).toBe(0);
      expect(sampleValue(empty, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-a' })).toBe(
        0,
      );
      expect(sampleValue(empty, 'bigip_acme_job_last_run_timestamp_seconds', { job: 'renew' })).toBe(0);
      expect(sampleValue(empty, 'bigip_acme_metrics_stale')).toBe(0);

      // Issue over HTTP-01 (Pebble) and over DNS-01, the second waiting for its TXT record first.
      await services.profiles.create(
        { name: 'mon', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      );
      await services.domains.add('mon', ['shop.example.test'], 'http-01', 'test');
      await services.domains.add('mon', ['txt.example.test'], 'dns-01', 'test');
      const shop = await services.certificates.request({ profile: 'mon', commonName: 'shop.example.test' }, 'test');
      expect(shop.state).toBe('issued');
      const txt = await services.certificates.request({ profile: 'mon', commonName: 'txt.example.test' }, 'test');
      expect(txt.state).toBe('awaiting_challenge');

      let all = await scrape();
      const shopLabels = { name: shop.name, profile: 'mon' };
      expect(sampleValue(all, 'bigip_acme_certificate_expiration_timestamp_seconds', shopLabels)).toBe(
        seconds(shop.notAfter),
      );
      const shopRow = (await store.certificates.findById(shop.id))!;
      expect(sampleValue(all, 'bigip_acme_certificate_renewal_timestamp_seconds', shopLabels)).toBe(
        seconds(shopRow.renewAt),
      );
      expect(ready(all, shop.name)).toEqual({ True: 1, False: 0, Unknown: 0 });
      expect(ready(all, txt.name)).toEqual({ True: 0, False: 0, Unknown: 1 });
      expect(samples(all, 'bigip_acme_certificate_expiration_timestamp_seconds', { name: txt.name })).toEqual([]);

      const content = await services.domains.challenge({ name: 'txt.example.test' });
      await pebble().setTxt('_acme-challenge.txt.example.test', content.dns!.value);
      expect((await services.certificates.resume(txt.name, 'test')).state).toBe('issued');
      expect(ready(await scrape(), txt.name)).toEqual({ True: 1, False: 0, Unknown: 0 });

      // Deploy to the simulated BIG-IP.
      await services.bindings.add({ certificate: shop.name, device: 'bigip-a', profile: '/Common/acme_shop' }, 'test');
      expect((await services.deploys.deploy(shop.name, {}, 'test')).ok).toBe(true);
      const [deployed] = await store.deployments.list({ result: 'succeeded' });
      all = await scrape();
      expect(sampleValue(all, 'bigip_acme_deploys_total', { result: 'succeeded' })).toBe(1);
      expect(sampleValue(all, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-a' })).toBe(
        seconds(deployed!.finishedAt),
      );
      expect(sampleValue(all, 'bigip_acme_device_failing_deploys', { device: 'bigip-a' })).toBe(0);

      // Renew (a person's renew against Pebble): counted, and the new expiry is shown.
      const renewed = await services.certificates.renew(shop.name, 'test');
      expect(renewed.serial).not.toBe(shop.serial);
      all = await scrape();
      expect(sampleValue(all, 'bigip_acme_renewals_total', { result: 'succeeded' })).toBe(1);
      expect(sampleValue(all, 'bigip_acme_certificate_expiration_timestamp_seconds', shopLabels)).toBe(
        seconds(renewed.notAfter),
      );

      // The device refuses the renewed certificate: the deploy fails, the device shows a failing deploy, and the
      // last success stays where it was.
      sim.failAt('cert-install', { status: 400, message: '01070317:3: injected refusal', times: 5 });
      expect((await services.deploys.deploy(shop.name, {}, 'test')).ok).toBe(false);
      all = await scrape();
      expect(sampleValue(all, 'bigip_acme_deploys_total', { result: 'failed' })).toBe(1);
      expect(sampleValue(all, 'bigip_acme_device_failing_deploys', { device: 'bigip-a' })).toBe(1);
      expect(sampleValue(all, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-a' })).toBe(
        seconds(deployed!.finishedAt),
      );
      sim.clearFailures();
      expect((await services.deploys.deploy(shop.name, {}, 'test')).ok).toBe(true);
      all = await scrape();
      expect(sampleValue(all, 'bigip_acme_deploys_total', { result: 'succeeded' })).toBe(2);
      expect(sampleValue(all, 'bigip_acme_device_failing_deploys', { device: 'bigip-a' })).toBe(0);

      // The scheduled renew job renews txt, but nobody publishes the new TXT record: a failed attempt.
      await pebble().clearTxt('_acme-challenge.txt.example.test');
      await store.certificates.update(txt.id, { renewAt: new Date(Date.now() - 1_000) });
      await services.jobs.run('renew');
      const renewRun = (await store.jobRuns.list()).find((r) => r.job === 'renew')!;
      all = await scrape();
      expect(sampleValue(all, 'bigip_acme_renewals_total', { result: 'failed' })).toBe(1);
      expect(
        sampleValue(all, 'bigip_acme_certificate_renewal_failed_attempts', { name: txt.name, profile: 'mon' }),
      ).toBe(1);
      // Still serving a valid certificate: Ready stays True while the renewal fails.
      expect(ready(all, txt.name)).toEqual({ True: 1, False: 0, Unknown: 0 });
      expect(sampleValue(all, 'bigip_acme_job_last_run_timestamp_seconds', { job: 'renew' })).toBe(
        seconds(renewRun.lastFinishedAt),
      );
      // Waiting for a person is not a failed item of the run: the run itself was ok.
      expect(renewRun.lastResult).toBe('ok');
      expect(sampleValue(all, 'bigip_acme_job_last_success_timestamp_seconds', { job: 'renew' })).toBe(
        seconds(renewRun.lastFinishedAt),
      );
      expect(sampleValue(all, 'bigip_acme_job_last_success_timestamp_seconds', { job: 'deploy' })).toBe(0);

      // An expired certificate is not Ready.
      await store.certificates.update(shop.id, { notAfter: new Date(Date.now() - 60_000) });
      expect(ready(await scrape(), shop.name)).toEqual({ True: 0, False: 1, Unknown: 0 });

      // Names only: no password, key material or sealed value in what is scraped.
      expect(lastText).not.toContain(sim.password);
      expect(lastText).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|v1\.[A-Za-z0-9_-]+\./);
    });
  });
}
