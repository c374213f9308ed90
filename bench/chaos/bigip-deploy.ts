/**
 * Scenario "BIG-IP deploy": a failure at each deploy step of the simulated BIG-IP (refused outright, or
 * applied with the answer lost), on a device whose two client-ssl profiles carry one certificate. Each case
 * reissues the certificate, deploys with the fault armed, then deploys again (the retry), then once more
 * (must write nothing). After every request the device answers, both profiles must reference a certificate
 * and a key that exist and match; after the retry both serve the new serial and the device holds exactly the
 * certificate's current objects.
 *
 * In process: the real deploy service and iControl REST client over HTTPS to the simulator, on an in-memory
 * PGlite (the database is not what is tested here), with test-CA certificates (no ACME needed).
 */
import { versionedObjects } from '../../core/domain/deploy-plan.ts';
import { assertProfilesConsistent, startDeployHarness, writesSeen } from '../../tests/bigip/deploy-harness.ts';
import type { SimulatorFailure, SimulatorStep } from '../../tests/support/bigip-simulator/index.ts';
import { reissueTestCertificate } from '../../tests/support/test-certificates.ts';
import { objectsNamed, watchProfiles } from './bigip-watch.ts';
import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

const PROFILES = ['/Common/chaos_a', '/Common/chaos_b'];

interface Case {
  what: string;
  step: SimulatorStep;
  /** `switched()` tells whether the profiles already reference the new certificate. */
  failure: (switched: () => boolean) => SimulatorFailure;
  /**
   * The attempt may recover by itself, reporting this: a lost commit answer is read back, and when the
   * profiles switched the deploy goes on (it need not fail to prove the fault was met).
   */
  recoveredWhen?: RegExp;
}

const CASES: Case[] = [
  { what: 'connect: login refused (503, 3 times)', step: 'login', failure: () => ({ status: 503, times: 3 }) },
  // The client retries a failed upload once from offset 0, so the device refuses twice.
  { what: 'upload refused (twice)', step: 'upload', failure: () => ({ times: 2 }) },
  { what: 'key install refused', step: 'key-install', failure: () => ({}) },
  { what: 'key install applied, answer lost', step: 'key-install', failure: () => ({ afterApply: true }) },
  { what: 'certificate install refused', step: 'cert-install', failure: () => ({}) },
  { what: 'certificate install applied, answer lost', step: 'cert-install', failure: () => ({ afterApply: true }) },
  { what: 'transaction begin refused (503)', step: 'transaction-begin', failure: () => ({ status: 503 }) },
  {
    what: 'profile change inside the transaction rejected',
    step: 'profile-patch',
    failure: () => ({ status: 400, message: '01070317:3: injected mismatch' }),
  },
  {
    what: 'transaction commit rejected',
    step: 'transaction-commit',
    failure: () => ({ status: 400, message: 'transaction failed:01070317:3: injected' }),
  },
  {
    what: 'transaction commit applied, answer lost',
    step: 'transaction-commit',
    failure: () => ({ afterApply: true }),
    recoveredWhen: /answer was lost; read back: the profiles serve the new certificate/,
  },
  {
    what: 'verify: profile read-back fails after the switch',
    step: 'profile-read',
    failure: (switched) => ({ when: () => switched() }),
  },
  {
    what: 'verify: certificate read-back fails after the switch',
    step: 'cert-read',
    failure: (switched) => ({ when: () => switched() }),
  },
  { what: 'save refused', step: 'save', failure: () => ({}) },
  { what: 'save applied, answer lost', step: 'save', failure: () => ({ afterApply: true }) },
  { what: 'cleanup: old certificate delete refused', step: 'cert-delete', failure: () => ({}) },
];

export async function bigipDeploy(ctx: ScenarioContext): Promise<ScenarioResult> {
  const result = emptyResult('bigip deploy');
  const h = await startDeployHarness();
  try {
    const sim = await h.addDevice('bigip1');
    for (const p of PROFILES) sim.addProfile(p);
    let cert = await h.seedCertificate(['chaos.example.test']);
    for (const p of PROFILES)
      await h.services.bindings.add({ certificate: cert.name, device: 'bigip1', profile: p }, 'chaos');
    const deploy = () => h.services.deploys.deploy(cert.name, {}, 'chaos');
    const first = await deploy();
    if (!first.ok) throw new Error(`the first deploy, without faults, failed: ${JSON.stringify(first.devices)}`);
    const watch = watchProfiles(sim, () => PROFILES);
    const switched = () => {
      const current = versionedObjects(cert.name, cert.partition, cert.notAfter!, cert.serial!, true).cert;
      return PROFILES.every((p) => sim.state.profiles.get(p)?.certKeyChain.some((e) => e.cert === current));
    };

    for (const c of CASES) {
      result.expected++;
      cert = await reissueTestCertificate(h.store, h.secrets, cert);
      const violationsBefore = watch.violations.length;
      sim.failAt(c.step, c.failure(switched));
      const faulted = await deploy();
      const recovered = faulted.ok && c.recoveredWhen?.test(faulted.devices[0]?.outcome ?? '') === true;
      const fired = !faulted.ok || recovered;
      // What the failed attempt told the operator, against what the device shows.
      const claimsPrevious = /serve what they served before/.test(faulted.devices[0]?.outcome ?? '');
      const misreported =
        claimsPrevious && switched()
          ? `the failed attempt reported "${faulted.devices[0]?.outcome}" but the profiles had switched to the new certificate`
          : null;
      if (fired) result.faults++;
      sim.clearFailures();
      const retry = await deploy();
      sim.resetRequests();
      const again = await deploy();

      const problems: string[] = [];
      let duplicated = 0;
      if (!fired) problems.push('the fault did not make the deploy fail (not injected?)');
      const retryDevice = retry.devices[0]!;
      if (!retry.ok)
        problems.push(
          `the retry ended ${retryDevice.result} at ${retryDevice.step}: ${retryDevice.error?.message ?? ''}`,
        );
      let serving: Record<string, string> = {};
      try {
        serving = assertProfilesConsistent(sim, PROFILES);
      } catch (err) {
        problems.push(`after the retry: ${(err as Error).message}`);
      }
      const servesNew = PROFILES.every((p) => serving[p] === cert.serial);
      if (!servesNew)
        problems.push(`profiles serve ${PROFILES.map((p) => serving[p] ?? '(none)').join(', ')}, not ${cert.serial}`);
      const objects = objectsNamed(sim, `/Common/${cert.name}_`);
      const extra = Math.max(0, objects.certs.length - 2) + Math.max(0, objects.keys.length - 1);
      if (extra > 0) {
        duplicated += extra;
        problems.push(
          `${extra} extra object(s) on the device: ${[...objects.certs, ...objects.keys].map((o) => o.split('/').pop()).join(', ')}`,
        );
      }
      const writes = writesSeen(sim);
      if (!again.ok || again.devices[0]?.result !== 'unchanged' || writes.length > 0) {
        duplicated += Math.max(1, writes.length);
        problems.push(
          `a third deploy was not a no-op (${again.devices[0]?.result}, ${writes.length} write(s): ${writes.slice(0, 3).join(', ')})`,
        );
      }
      if (sim.state.uploads.size > 0)
        problems.push(`${sim.state.uploads.size} uploaded file(s) left in /var/config/rest/downloads`);
      const violations = watch.violations.slice(violationsBefore);
      if (violations.length > 0)
        problems.push(`a profile pointed at a missing or mismatched object: ${violations.join('; ')}`);
      if (!servesNew || violations.length > 0) result.lost++;
      result.duplicated += duplicated;
      if (problems.length === 0) result.survived++;
      const failedAt = recovered
        ? 'read the profiles back and went on'
        : faulted.devices[0]
          ? `${faulted.devices[0].result} at ${faulted.devices[0].step}`
          : '?';
      result.notes.push(
        `${c.what}: ${problems.length === 0 ? `ok (first attempt ${failedAt}, retry ${retryDevice.result})` : problems.join('; ')}${misreported ? ` [misreport: ${misreported}]` : ''}`,
      );
      ctx.progress(`bigip deploy: ${c.what} → ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
    }
    result.notes.push(`profile consistency checked after each of ${watch.checks} BIG-IP requests`);
  } finally {
    await h.close();
  }
  return result;
}
