import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import { loadConfig } from '../../core/config.ts';
import { generatePrivateKey } from '../../core/domain/key-spec.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { openRuntime, type Runtime } from '../../runtime.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

/** A loopback port nothing listens on: the CA is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Issue 11, item 4: during a CA outage a renewal fails, and without Slack nobody could see it. Drives the
 * failure through the real renew job (real acme-client gateway against a closed port, real PGlite) and reads
 * it back through the real CLI entry: `status`, `jobs status`, `events`, `audit`, in text and JSON.
 */
describe('a renewal failing during a CA outage, seen from the CLI', () => {
  let dir: string;
  let rt: Runtime;
  let cert: ManagedCertificate;
  const outputs: string[] = [];

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: dir,
      user: 'tester',
      servesChallenges: false,
      withRuntime: (fn) => fn(rt),
    });
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }
  const json = async (...args: string[]) => {
    const r = await cli('--json', ...args);
    return { ...r, body: JSON.parse(r.stdout) };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-status-'));
    rt = await openRuntime(loadConfig({ DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
    // A profile whose CA has gone away, with a real sealed account key, and a certificate issued earlier.
    const profile = makeProfile({
      name: 'outage',
      directoryUrl: `https://127.0.0.1:${await closedPort()}/dir`,
      autoDeploy: false,
    });
    profile.accountKeySealed = rt.secrets.seal(
      await generatePrivateKey('ec-p256'),
      secretAad('profiles', profile.id, 'account_key'),
    );
    await rt.store.profiles.insert(profile);
    const seeded = await seedIssuedCertificate(rt.store, rt.secrets, {
      names: ['www.outage.test'],
      profileId: profile.id,
    });
    cert = await rt.store.certificates.update(seeded.id, {
      renewAt: new Date(Date.now() - 60_000),
      renewReason: 'two_thirds',
    });
  });
  afterAll(async () => {
    await rt?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('before the renewal is due to fail, status says ok and exits 0', async () => {
    const text = await cli('status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^bigip-acme status at \S+: OK: 0 failing, 0 need attention, 0 waiting/);
    expect(text.stdout).toContain('Inventory: profiles 1, domains 0, certificates 1 (issued 1), devices 0');
    expect((await json('status')).body).toMatchObject({ verdict: 'ok', certificates: [], counts: { failing: 0 } });
  });

  it('the renew job records the failed item: exit 1, result failed, counted', async () => {
    const run = await cli('jobs', 'run', 'renew');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('result: failed (0 succeeded, 1 failed, 0 waiting)');
    expect(run.stdout).toContain('www.outage.test');
  });

  it('jobs status says the renew job failed, how many items, and why', async () => {
    const { code, body } = await json('jobs', 'status');
    expect(code).toBe(0);
    const renew = body.find((j: { job: string }) => j.job === 'renew');
    expect(renew).toMatchObject({
      lastResult: 'failed',
      items: { succeeded: 0, failed: 1, waiting: 0 },
      failed: [{ name: 'www.outage.test' }],
      timing: 'on_schedule',
    });
    expect(renew.failed[0].message.length).toBeGreaterThan(0);
    expect(new Date(renew.nextRun).getTime()).toBeGreaterThan(Date.now());

    const text = await cli('jobs', 'status');
    expect(text.stdout).toMatch(/renew\s+\*\/10 \* \* \* \*\s+\S+\s+failed\s+0 succeeded, 1 failed, 0 waiting/);
    expect(text.stdout).toContain('Failed in the last runs:');
    expect(text.stdout).toContain(`renew: www.outage.test failed: ${renew.failed[0].message}`);
  });

  it('status puts the failing renewal first with its reason and next attempt, and exits 1', async () => {
    const row = (await rt.store.certificates.findById(cert.id))!;
    expect(row.failedAttempts).toBe(1);
    const { code, body } = await json('status');
    expect(code).toBe(1);
    expect(body.verdict).toBe('failing');
    expect(body.certificates).toHaveLength(1);
    const [failing] = body.certificates;
    expect(failing).toMatchObject({
      name: 'www.outage.test',
      profileName: 'outage',
      concern: 'renewal_failing',
      level: 'failing',
      failedAttempts: 1,
      nextAttemptAt: row.nextAttemptAt!.toISOString(),
    });
    expect(failing.lastError).toMatchObject({ attempt: 1, code: expect.any(String), message: expect.any(String) });
    expect(body.jobs.find((j: { job: string }) => j.job === 'renew')).toMatchObject({
      lastResult: 'failed',
      level: 'failing',
    });
    expect(body.counts).toEqual({ failing: 2, degraded: 0, waiting: 0 });

    const text = await cli('status');
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/FAILING: 2 failing, 0 need attention, 0 waiting$/);
    expect(lines.slice(1, 5)).toEqual([
      '',
      'Failing',
      '  certificates (1)',
      `    www.outage.test [outage]: ${failing.summary}`,
    ]);
    expect(failing.summary).toContain(`renewal failing (1 failed attempt): ${failing.lastError.message} (attempt 1,`);
    expect(failing.summary).toContain(`next attempt ${row.nextAttemptAt!.toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
    expect(text.stdout).toContain('  jobs (1)\n    renew: last run');
  });

  it('events --certificate lists its outbox entries, newest first, with filters', async () => {
    const text = await cli('events', '--certificate', 'www.outage.test');
    expect(text.code, text.stderr).toBe(0);
    const rows = text.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+AT\s+TYPE\s+SUBJECT\s+PERSON\s+DELIVERED\s+DETAIL$/);
    expect(rows[1]).toMatch(/renewal_failed\s+www\.outage\.test\s+-\s+pending\s+\S/);
    expect(rows[1]).toContain('attempt=1');
    expect(rows[1]).toMatch(/message=cannot reach the CA at https:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/);
    expect(rows[2]).toMatch(/renewal_due\s+www\.outage\.test\s+-\s+pending\s+.*serial=\S+/);

    const failed = await json('events', '--certificate', 'www.outage.test', '--type', 'renewal_failed');
    expect(failed.body).toHaveLength(1);
    expect(failed.body[0]).toMatchObject({
      kind: 'renewal_failed',
      subject: 'www.outage.test',
      certificateId: cert.id,
      deliveredAt: null,
      detail: { attempt: 1 },
    });
    expect((await json('events', '--undelivered', '--since', '1h')).body).toHaveLength(2);
    expect(
      (await json('events', '--since', '2000-01-01', '--limit', '1')).body.map((e: { kind: string }) => e.kind),
    ).toEqual(['renewal_failed']);
    expect((await json('events', '--type', 'deploy_failed,expiry_warning')).body).toEqual([]);
  });

  it('audit --object lists who did what to it', async () => {
    const text = await cli('audit', '--object', 'www.outage.test');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /scheduler\s+certificate\.renew\s+certificate:www\.outage\.test\s+ok\s+previousSerial=/,
    );
    const { body } = await json(
      'audit',
      '--object',
      'www.outage.test',
      '--actor',
      'scheduler',
      '--action',
      'certificate',
      '--since',
      '1d',
    );
    expect(body.map((e: { action: string }) => e.action)).toContain('certificate.renew');
    expect(
      body.every(
        (e: { actor: string; objectName: string }) => e.actor === 'scheduler' && e.objectName === 'www.outage.test',
      ),
    ).toBe(true);
    expect((await json('audit', '--actor', 'nobody')).body).toEqual([]);
  });

  it('refuses bad filters with exit code 2 and says what is accepted', async () => {
    const since = await cli('events', '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toContain(
      "option '--since <when>' argument 'yesterday' is invalid. must be a duration back from now (30m, 1h, 7d, 2w)",
    );
    const type = await cli('events', '--type', 'renewal_failed,bogus');
    expect(type.code).toBe(2);
    expect(type.stderr).toContain('unknown event type "bogus" (types: renewal_due, renewed, renewal_failed');
    const limit = await cli('audit', '--limit', '0');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('must be a whole number from 1 to 1000');
    const missing = await json('events', '--certificate', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.body.error).toEqual({
      code: 'not_found',
      message: 'no certificate named "nope" (see: bigip-acme cert list)',
    });
  });

  it('prints no secret anywhere: no key PEM, no sealed value, no master key', async () => {
    const row = (await rt.store.certificates.findById(cert.id))!;
    const profile = (await rt.store.profiles.findById(row.profileId))!;
    const masterKey = readFileSync(join(dir, 'data', 'master.key'), 'utf8').trim();
    const everything = outputs.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).not.toContain('PRIVATE KEY');
    expect(everything).not.toContain(masterKey);
    for (const sealed of [row.keySealed, cert.keySealed, profile.accountKeySealed])
      expect(everything).not.toContain(sealed!);
    expect(everything).not.toMatch(/Sealed|Verifier/);
  });
});
