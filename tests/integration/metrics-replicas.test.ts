import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/ports/store.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeCertificate, makeDeployment, makeDevice, makeProfile } from '../fixtures/builders.ts';
import { freeTcpPort, retryWhenAddressInUse } from '../support/free-port.ts';
import { parsePrometheusText, type Sample, sampleValue } from '../support/prometheus-text.ts';
import { type ServeProcess, startServe } from '../support/serve-process.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

const PROCESS_TEST_MS = 120_000;
const DAY = 86_400_000;
const EXPIRES = new Date(Date.now() + 60 * DAY);
const DEPLOYED = new Date(Date.now() - DAY);
const RENEW_RAN = new Date(Date.now() - 3_600_000);

/** A certificate lifecycle as the database holds it: what the responders must report. */
async function seed(store: Store): Promise<{ certId: string }> {
  const profile = makeProfile({ name: 'le' });
  await store.profiles.insert(profile);
  const www = makeCertificate(profile.id, { name: 'www', state: 'issued', serial: '0a', notAfter: EXPIRES });
  await store.certificates.insert(www);
  await store.certificates.insert(makeCertificate(profile.id, { name: 'new', state: 'ordering' }));
  const device = makeDevice({ name: 'bigip-a' });
  await store.devices.insert(device);
  await store.deployments.insert(
    makeDeployment(www.id, device.id, { result: 'succeeded', startedAt: DEPLOYED, finishedAt: DEPLOYED }),
  );
  await store.jobRuns.started('renew', 'w1', RENEW_RAN);
  await store.jobRuns.finished('renew', 'ok', { renewed: [] }, RENEW_RAN);
  return { certId: www.id };
}

async function scrape(p: ServeProcess): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${p.env['RESPONDER_PORT']}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

/** The series read from the database (the same on every replica), without when they were read. */
function lifecycle(all: Sample[]): Sample[] {
  return all.filter(
    (s) =>
      /^bigip_acme_(certificate|renewals|deploys|device|job)_/.test(s.name) || s.name === 'bigip_acme_metrics_stale',
  );
}

function expectSeeded(all: Sample[]): void {
  expect(sampleValue(all, 'bigip_acme_certificate_expiration_timestamp_seconds', { name: 'www', profile: 'le' })).toBe(
    EXPIRES.getTime() / 1000,
  );
  expect(sampleValue(all, 'bigip_acme_certificate_ready_status', { name: 'www', condition: 'True' })).toBe(1);
  expect(sampleValue(all, 'bigip_acme_certificate_ready_status', { name: 'new', condition: 'Unknown' })).toBe(1);
  expect(sampleValue(all, 'bigip_acme_deploys_total', { result: 'succeeded' })).toBe(1);
  expect(sampleValue(all, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-a' })).toBe(
    DEPLOYED.getTime() / 1000,
  );
  expect(sampleValue(all, 'bigip_acme_job_last_success_timestamp_seconds', { job: 'renew' })).toBe(
    RENEW_RAN.getTime() / 1000,
  );
  expect(sampleValue(all, 'bigip_acme_metrics_stale')).toBe(0);
}

// The production entry point (`bin/bigip-acme serve --role responder`) serves the lifecycle from the database.
describe('serve --role responder: /metrics reports the lifecycle the database holds (embedded PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-metrics-'));
  let responder: ServeProcess | undefined;

  beforeAll(async () => {
    const database = await openDatabase({ dataDir });
    await database.migrate();
    await seed(createDrizzleStore(database));
    await database.close();
    responder = await retryWhenAddressInUse(async () =>
      startServe('responder', {
        DATA_DIR: dataDir,
        MASTER_KEY: randomBytes(32).toString('base64'),
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(await freeTcpPort()),
      }),
    );
  }, PROCESS_TEST_MS);
  afterAll(async () => {
    await responder?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a fresh process reports what earlier processes recorded', async () => {
    expectSeeded(await scrape(responder!));
  });
});

describe.skipIf(!postgresUrl)('two responder replicas on PostgreSQL report the same lifecycle', () => {
  const replicas: ServeProcess[] = [];
  let store: Store;
  let close: () => Promise<void> = async () => {};
  let certId = '';

  beforeAll(async () => {
    const database = await freshDatabase(() => openDatabase({ url: postgresUrl! }));
    close = () => database.close();
    store = createDrizzleStore(database);
    ({ certId } = await seed(store));
    for (let i = 0; i < 2; i++)
      replicas.push(
        await retryWhenAddressInUse(async () =>
          startServe('responder', {
            DATABASE_URL: postgresUrl!,
            RESPONDER_HOST: '127.0.0.1',
            RESPONDER_PORT: String(await freeTcpPort()),
          }),
        ),
      );
  }, PROCESS_TEST_MS);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await close();
  });

  it(
    'the same values on both, and a change made elsewhere (the certificate expired) reaches both',
    async () => {
      const [a, b] = [await scrape(replicas[0]!), await scrape(replicas[1]!)];
      expectSeeded(a);
      expect(lifecycle(b)).toEqual(lifecycle(a));

      await store.certificates.update(certId, { notAfter: new Date(Date.now() - 60_000) });
      // Each replica reads again once its scrape cache (10 s) has passed; poll rather than wait a fixed time.
      for (const replica of replicas) {
        let ready: number | undefined;
        for (let i = 0; i < 150 && ready !== 1; i++) {
          ready = sampleValue(await scrape(replica), 'bigip_acme_certificate_ready_status', {
            name: 'www',
            condition: 'False',
          });
          if (ready !== 1) await new Promise((r) => setTimeout(r, 200));
        }
        expect(ready).toBe(1);
      }
      expect(lifecycle(await scrape(replicas[1]!))).toEqual(lifecycle(await scrape(replicas[0]!)));
    },
    PROCESS_TEST_MS,
  );
});
