/**
 * Scenario "process kill": `cert request` (a child process of the real CLI) SIGKILLs itself at each issuance
 * step (BIGIP_ACME_FAILPOINT), then `cert resume` finishes it; `cert deploy` is killed just before and just
 * after the profile switch, then run again. PostgreSQL, because the responder must outlive the CLI (with
 * PGlite they are one process); the responder is its own `serve --role responder`.
 *
 * Per request: exactly one certificate issued (Pebble's log), at most one extra ACME order, the key stored
 * before the kill is the key certified. Per deploy: no profile ever points at a missing or mismatched object
 * (checked after every request the simulated BIG-IP answers), the retry serves the new certificate, leaves
 * exactly its objects, and a third run writes nothing.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateMatchesKey } from '../../core/domain/certificate-facts.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { assertProfilesConsistent, writesSeen } from '../../tests/bigip/deploy-harness.ts';
import { startBigIpSimulator } from '../../tests/support/bigip-simulator/index.ts';
import { startPebble } from '../../tests/support/pebble.ts';
import { objectsNamed, watchProfiles } from './bigip-watch.ts';
import { chaosDatabaseUrl, freshChaosDatabase } from './databases.ts';
import { freePorts, waitForHttp } from './net.ts';
import { caActivity, orderId, since } from './pebble-log.ts';
import { type Env, mustCli, runCli, Service } from './processes.ts';
import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

const ISSUANCE_POINTS = [
  'key_persisted',
  'order_created',
  'challenge_answered',
  'finalize_sent',
  'certificate_downloaded',
] as const;
const DEPLOY_POINTS = ['deploy_before_switch', 'deploy_after_switch'] as const;

const normSerial = (s: string | null | undefined) => (s ?? '').toLowerCase().replace(/^0+/, '');

export async function processKill(ctx: ScenarioContext): Promise<ScenarioResult> {
  const result = emptyResult('process kill');
  const url = chaosDatabaseUrl('kill');
  await freshChaosDatabase(url);
  const [httpPort, tlsPort] = await freePorts(2);
  const pebble = await startPebble({ httpPort: httpPort!, tlsPort: tlsPort!, authzReuse: 0 });
  const masterKey = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'chaos-kill-'));
  const env: Env = {
    DATABASE_URL: url,
    MASTER_KEY: masterKey,
    ACME_CA_FILE: pebble.caFile,
    CHALLENGE_HTTP_PORT: String(httpPort),
    CHALLENGE_DNS_SERVERS: pebble.dnsServer,
    RESPONDER_HOST: '127.0.0.1',
    RESPONDER_PORT: String(httpPort),
  };
  // The DMZ responder, as in production: no MASTER_KEY.
  const responder = new Service(
    'responder',
    ['serve', '--role', 'responder'],
    { ...env, MASTER_KEY: undefined },
    { ready: () => waitForHttp(httpPort!, '/healthz', 500) },
  );
  const database = await openDatabase({ url });
  const store = createDrizzleStore(database);
  const secrets = createSecretBox(masterKey);
  const sim = await startBigIpSimulator();
  try {
    await responder.start();
    const names = ISSUANCE_POINTS.map((p) => `kill-${p.replace(/_/g, '-')}.example.test`);
    await mustCli(['profile', 'create', 'p', '--server', pebble.directoryUrl, '--accept-tos'], env);
    await mustCli(['domain', 'add', '--profile', 'p', ...names], env);

    // ---- issuance: kill at each step, then resume; the five requests run side by side ----
    const passwordFile = join(dir, 'bigip.pw');
    writeFileSync(passwordFile, sim.password, { mode: 0o600 });
    const caFile = join(dir, 'bigip-ca.pem');
    writeFileSync(caFile, sim.caPem!);
    const before = await caActivity(pebble);
    const [, ...issuances] = await Promise.all([
      mustCli(
        [
          'device',
          'add',
          'sim',
          '--url',
          sim.url,
          '--username',
          sim.username,
          '--password-file',
          passwordFile,
          '--ca-file',
          caFile,
        ],
        env,
      ),
      ...ISSUANCE_POINTS.map(async (point, i) => {
        const name = names[i]!;
        const killed = await runCli(['cert', 'request', '--profile', 'p', '--cn', name], env, { failpoint: point });
        const atKill = await store.certificates.findByName(name);
        const resumed = await runCli(['--json', 'cert', 'resume', name], env);
        return { point, name, killed, atKill, resumed, final: await store.certificates.findByName(name) };
      }),
    ]);
    const ca = since(before, await caActivity(pebble));
    for (const { point, killed, atKill, resumed, final } of issuances) {
      result.expected++;
      if (killed.signal === 'SIGKILL') result.faults++;
      else
        result.notes.push(
          `${point}: the failpoint did not fire (exit ${killed.code}): ${killed.stderr.trim().slice(0, 200)}`,
        );
      const problems = checkIssued(final, secrets);
      if (resumed.code !== 0)
        problems.push(
          `resume exited ${resumed.code ?? resumed.signal}: ${(resumed.stderr || resumed.stdout).trim().slice(0, 300)}`,
        );
      // Orders and issuances at the CA, attributed through the order URLs this request stored.
      const ours = new Set(
        [orderId(atKill?.orderUrl), orderId(final?.orderUrl)].filter((o): o is string => o !== null),
      );
      const issuedHere = ca.issued.filter((c) => ours.has(c.order));
      let duplicated = 0;
      if (issuedHere.length > 1) {
        duplicated += issuedHere.length - 1;
        problems.push(`the CA issued ${issuedHere.length} certificates for one request`);
      }
      if (final?.serial && !issuedHere.some((c) => normSerial(c.serial) === normSerial(final.serial))) {
        problems.push(`the stored serial ${final.serial} is not the one the CA issued for this request's order`);
      }
      if (atKill?.keySealed && final?.keySealed && atKill.keySealed !== final.keySealed) {
        duplicated++;
        problems.push('a second key was generated after the kill (the stored key was not kept)');
      }
      if (final?.state !== 'issued' || problems.some((p) => p.startsWith('not issued'))) result.lost++;
      result.duplicated += duplicated;
      if (problems.length === 0) result.survived++;
      const orderNote = ours.size > 1 ? `resumed on a new order (${ours.size} orders)` : 'same order';
      result.notes.push(`${point}: ${problems.length === 0 ? 'ok' : problems.join('; ')} (${orderNote})`);
      ctx.progress(`process kill: ${point} → ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
    }
    // Every certificate the CA made in this phase must belong to an order some request recorded.
    const recorded = new Set(
      issuances
        .flatMap((r) => [orderId(r.atKill?.orderUrl), orderId(r.final?.orderUrl)])
        .filter((o): o is string => o !== null),
    );
    const stray = ca.issued.filter((c) => !recorded.has(c.order));
    if (stray.length > 0) {
      result.duplicated += stray.length;
      result.notes.push(`${stray.length} certificate(s) issued for orders no request recorded`);
    }
    if (ca.orders.length > 2 * issuances.length) {
      result.duplicated += ca.orders.length - 2 * issuances.length;
      result.notes.push(`${ca.orders.length} ACME orders for ${issuances.length} requests (at most one extra each)`);
    }
    result.notes.push(
      `issuance phase at the CA: ${ca.orders.length} orders, ${ca.issued.length} certificates for ${issuances.length} requests`,
    );

    // ---- deploy: kill just before and just after the profile switch, then deploy again ----
    const deployed = DEPLOY_POINTS.map((point, i) => ({ point, name: names[i]!, profile: `/Common/chaos_${point}` }));
    for (const d of deployed) sim.addProfile(d.profile);
    await Promise.all(
      deployed.map((d) =>
        mustCli(['binding', 'add', '--cert', d.name, '--device', 'sim', '--profile', d.profile], env),
      ),
    );
    const watch = watchProfiles(sim, () => deployed.map((d) => d.profile));
    const runs = await Promise.all(
      deployed.map(async (d) => {
        const killed = await runCli(['cert', 'deploy', d.name], env, { failpoint: d.point });
        const retry = await runCli(['--json', 'cert', 'deploy', d.name], env);
        return { ...d, killed, retry };
      }),
    );
    // A third deploy of each must find everything in place and write nothing.
    sim.resetRequests();
    const again = await Promise.all(deployed.map((d) => runCli(['--json', 'cert', 'deploy', d.name], env)));
    const writes = writesSeen(sim);
    if (writes.length > 0 || again.some((a) => a.code !== 0)) {
      result.duplicated += writes.length;
      result.notes.push(
        `a third deploy was not a no-op (exits ${again.map((a) => a.code).join(', ')}; ${writes.length} write(s): ${writes.slice(0, 4).join(', ')})`,
      );
    }
    for (const d of runs) {
      result.expected++;
      const cert = await store.certificates.findByName(d.name);
      if (d.killed.signal === 'SIGKILL') result.faults++;
      else
        result.notes.push(
          `${d.point}: the failpoint did not fire (exit ${d.killed.code}): ${(d.killed.stderr || d.killed.stdout).trim().slice(0, 200)}`,
        );
      const problems: string[] = [];
      let duplicated = 0;
      if (d.retry.code !== 0)
        problems.push(
          `the deploy after the kill exited ${d.retry.code}: ${summarizeDeploy(d.retry.json) ?? d.retry.stderr.trim().slice(0, 300)}`,
        );
      let serving: Record<string, string> = {};
      try {
        serving = assertProfilesConsistent(sim, [d.profile]);
      } catch (err) {
        problems.push(`after the retry: ${(err as Error).message}`);
      }
      const servesNew = !!cert?.serial && normSerial(serving[d.profile]) === normSerial(cert.serial);
      if (!servesNew)
        problems.push(`${d.profile} serves serial ${serving[d.profile] ?? '(none)'}, not ${cert?.serial}`);
      const objects = objectsNamed(sim, `/Common/${d.name}_`);
      const expectedCerts = cert?.chainPem && cert.chainPem.split('-----BEGIN CERTIFICATE-----').length > 2 ? 2 : 1;
      const extra = Math.max(0, objects.certs.length - expectedCerts) + Math.max(0, objects.keys.length - 1);
      if (extra > 0) {
        duplicated += extra;
        problems.push(
          `${extra} extra object(s) of ${d.name} left on the device: ${[...objects.certs, ...objects.keys].join(', ')}`,
        );
      }
      // The killed attempt's record: still `running` forever would mislead whoever reads the history.
      const stale = cert
        ? (await store.deployments.list({ certificateId: cert.id })).filter((r) => r.result === 'running')
        : [];
      if (stale.length > 0)
        result.notes.push(
          `${d.point}: ${stale.length} deployment record(s) of the killed attempt still say "running" (step ${stale.map((r) => r.step).join(', ')}) [misreport, not counted]`,
        );
      const violations = watch.violations.filter((v) => v.includes(d.profile));
      if (violations.length > 0)
        problems.push(`a profile pointed at a missing or mismatched object: ${violations.join('; ')}`);
      if (!servesNew || violations.length > 0) result.lost++;
      result.duplicated += duplicated;
      if (problems.length === 0) result.survived++;
      result.notes.push(`${d.point}: ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
      ctx.progress(`process kill: ${d.point} → ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
    }
    result.notes.push(`profile consistency checked after each of ${watch.checks} BIG-IP requests`);
  } finally {
    result.exits += responder.exits.length;
    result.notes.push(...responder.exitNotes());
    await responder.stop();
    await sim.close();
    await database.close();
    await pebble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

function checkIssued(final: ManagedCertificate | null, secrets: ReturnType<typeof createSecretBox>): string[] {
  if (!final) return ['not issued: the certificate row is gone'];
  if (final.state !== 'issued' || !final.chainPem || !final.keySealed)
    return [`not issued: state ${final.state}${final.problem ? ` (${final.problem.detail})` : ''}`];
  const keyPem = secrets.open(final.keySealed, secretAad('certificates', final.id, 'key'));
  const problems: string[] = [];
  if (!certificateMatchesKey(final.chainPem, keyPem))
    problems.push('not issued: the stored chain does not match the stored key');
  return problems;
}

function summarizeDeploy(json: unknown): string | null {
  const report = json as {
    devices?: { device: string; result: string; step: string; error: { message: string } | null }[];
  } | null;
  if (!report?.devices) return null;
  return report.devices
    .map((d) => `${d.device} ${d.result} at ${d.step}${d.error ? `: ${d.error.message}` : ''}`)
    .join('; ');
}
