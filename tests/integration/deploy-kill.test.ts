import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../core/domain/deployment.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { createCoreServices } from '../../core/services/index.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { assertProfilesConsistent, deployCoreDeps } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { runBin } from '../support/cli-process.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

/**
 * `cert deploy` SIGKILLed right after the profile switch (BIGIP_ACME_FAILPOINT=deploy_after_switch) leaves
 * its deployment record `running`; the next `cert deploy` waits for the dead process's claim to lapse
 * (JOBS_LEASE_SECONDS=1 here) and settles that record, so no record reads as running forever.
 */
describe('a deploy killed after the profile switch', () => {
  let dir: string;
  let sim: BigIpSimulator;
  const masterKey = randomBytes(32).toString('base64');
  const env = () => ({ DATA_DIR: dir, MASTER_KEY: masterKey, LOG_LEVEL: 'warn', JOBS_LEASE_SECONDS: '1' });
  let certName: string;

  const records = async (): Promise<Deployment[]> => {
    const database = await openDatabase({ dataDir: dir });
    try {
      return await createDrizzleStore(database).deployments.list({});
    } finally {
      await database.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-kill-'));
    sim = await startBigIpSimulator();
    sim.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
    const database = await openDatabase({ dataDir: dir });
    try {
      await database.migrate();
      const store = createDrizzleStore(database);
      const secrets = createSecretBox(masterKey);
      const services = createCoreServices(deployCoreDeps(store, secrets));
      const cert = await seedIssuedCertificate(store, secrets, { names: ['www.example.com'] });
      certName = cert.name;
      await services.devices.add(
        {
          name: 'bigip1',
          url: sim.url,
          username: sim.username,
          password: sim.password,
          ...(sim.caPem ? { caPem: sim.caPem } : { insecure: true }),
        },
        'test',
      );
      await services.bindings.add({ certificate: cert.name, device: 'bigip1', profile: 'acme_www' }, 'test');
    } finally {
      await database.close();
    }
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no record running once the next deploy has run', async () => {
    const killed = await runBin(['cert', 'deploy', certName], {
      ...env(),
      BIGIP_ACME_FAILPOINT: 'deploy_after_switch',
    });
    expect(killed.code).toBeNull();
    const [left] = await records();
    expect(left).toMatchObject({ result: 'running', step: 'switch' });

    const retried = await runBin(['--json', 'cert', 'deploy', certName], env());
    expect(retried.code, retried.stderr).toBe(0);
    const after = await records();
    expect(after.filter((d) => d.result === 'running')).toEqual([]);
    const settled = after.find((d) => d.id === left!.id)!;
    const newer = after.find((d) => d.id !== left!.id)!;
    expect(newer.result).toBe('succeeded');
    expect(settled).toMatchObject({ result: 'failed', step: 'switch' });
    expect(settled.error!.message).toBe(
      `the process running this deploy stopped at step switch; superseded by ${newer.id}`,
    );
    expect(Object.keys(assertProfilesConsistent(sim, ['/Common/acme_www']))).toHaveLength(1);
  }, 120_000);
});
