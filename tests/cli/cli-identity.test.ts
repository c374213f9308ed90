import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { osUserName } from '../../cli/os-identity.ts';
import { runCli } from '../../cli/program.ts';
import { loadConfig } from '../../core/config.ts';
import { openRuntime, type Runtime } from '../../runtime.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { runBin, startService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

/**
 * The CLI's actor is the operating system's word (the process's uid), not the environment's, and the core
 * applies CLI_APPROVERS to it. The children run as this test's uid, so `me` is who they are.
 */
const me = osUserName();
const quiet = pino({ level: 'silent' });

interface Seeded {
  /** A pending renewal approval for a certificate `cli:<me>` requested. */
  mine: string;
  /** A pending renewal approval for a certificate someone in Slack requested. */
  alices: string;
}

/** Two issued certificates due for renewal in a semi-automatic profile; the renew job asks for their approvals. */
async function seedRenewalApprovals(dataDir: string): Promise<Seeded> {
  const rt = await openRuntime(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), quiet);
  try {
    const profile = makeProfile({ name: 'semi', renewApproval: true });
    await rt.store.profiles.insert(profile);
    const ids: Record<string, string> = {};
    for (const [name, requester] of [
      ['mine.example.com', `cli:${me}`],
      ['alices.example.com', 'slack:U0ALICE'],
    ] as const) {
      const cert = await seedIssuedCertificate(rt.store, rt.secrets, { names: [name], profileId: profile.id });
      await rt.store.certificates.update(cert.id, { requestedBy: requester, renewAt: new Date(Date.now() - 60_000) });
      ids[name] = cert.id;
    }
    const report = await rt.services.renewals.sweep();
    expect(report.waiting.sort()).toEqual(['alices.example.com', 'mine.example.com']);
    const pending = await rt.services.approvals.list('pending');
    const of = (name: string) => pending.find((a) => a.certificateId === ids[name])!;
    // The scheduler asked on behalf of each certificate's requester.
    expect(of('mine.example.com')).toMatchObject({
      requestedBy: `cli:${me}`,
      summary: expect.objectContaining({ initiatedBy: 'scheduler' }),
    });
    return { mine: of('mine.example.com').id, alices: of('alices.example.com').id };
  } finally {
    await rt.close();
  }
}

async function withRuntime<T>(
  dataDir: string,
  env: Record<string, string>,
  fn: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await openRuntime(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env }), quiet);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

const stateOf = (dataDir: string, id: string) =>
  withRuntime(dataDir, {}, async (rt) => rt.store.approvals.findById(id));

describe('CLI approvals: identity from the OS, CLI_APPROVERS in the core (local process)', () => {
  let dir: string;
  let dataDir: string;
  let approvals: Seeded;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-identity-'));
    dataDir = join(dir, 'data');
    approvals = await seedRenewalApprovals(dataDir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('USER=other does not make the actor "other": refused as the OS user, and nothing changes', async () => {
    const run = await runBin(['--json', 'approval', 'approve', approvals.alices], {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      USER: 'other',
      LOGNAME: 'other',
      CLI_APPROVERS: 'other',
    });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(JSON.parse(run.stdout).error).toEqual({
      code: 'forbidden',
      message: `cli:${me} may not decide approvals; who may: cli:other (SLACK_APPROVERS, CLI_APPROVERS); nothing changed`,
    });
    expect(await stateOf(dataDir, approvals.alices)).toMatchObject({ state: 'pending', decidedBy: null });
  });

  it('with CLI_APPROVERS empty nobody decides from the CLI', async () => {
    const run = await runBin(['approval', 'deny', approvals.alices, '--reason', 'no'], {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nobody may, SLACK_APPROVERS and CLI_APPROVERS are empty');
    expect((await stateOf(dataDir, approvals.alices))?.state).toBe('pending');
  });

  it("the certificate's requester cannot approve its renewal, though an approver; the message says who and why", async () => {
    const run = await runBin(['--json', 'approval', 'approve', approvals.mine], {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      USER: 'other',
      CLI_APPROVERS: me,
    });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toEqual({
      code: 'forbidden',
      message: `cli:${me} requested certificate "mine.example.com" and cannot decide its renewal: someone else must decide (four eyes; APPROVAL_ALLOW_SELF=true allows it); nothing changed`,
    });
    expect((await stateOf(dataDir, approvals.mine))?.state).toBe('pending');
  });

  it('an approver who is no party approves, recorded under the OS user whatever USER says', async () => {
    const run = await runBin(['--json', 'approval', 'approve', approvals.alices], {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      USER: 'other',
      CLI_APPROVERS: me,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: approvals.alices, state: 'approved', decidedBy: `cli:${me}` });
    const audit = await withRuntime(dataDir, {}, (rt) => rt.store.audit.list({ limit: 50 }));
    expect(audit.filter((a) => a.action === 'approval.approve').map((a) => `${a.actor} ${a.result}`)).toEqual(
      expect.arrayContaining([`cli:${me} ok`, `cli:${me} error`]),
    );
    expect(audit.map((a) => a.actor)).not.toContain('cli:other');
  });

  it('another OS user (the runCli seam) decides the renewal its requester could not; one not listed is refused', async () => {
    const io = (user: string, rt: Runtime, out: string[]) => ({
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => out.push(t),
      cwd: dir,
      user,
      withRuntime: <T>(fn: (r: Runtime) => Promise<T>) => fn(rt),
      servesChallenges: false,
    });
    await withRuntime(dataDir, { CLI_APPROVERS: `${me},bob` }, async (rt) => {
      const mallory: string[] = [];
      expect(await runCli(['--json', 'approval', 'approve', approvals.mine], io('mallory', rt, mallory))).toBe(2);
      expect(JSON.parse(mallory.join('')).error.message).toMatch(
        /^cli:mallory may not decide approvals; who may: cli:\S+, cli:bob/,
      );
      expect((await rt.store.approvals.findById(approvals.mine))?.state).toBe('pending');
      const bob: string[] = [];
      expect(await runCli(['--json', 'approval', 'approve', approvals.mine], io('bob', rt, bob))).toBe(0);
      expect(JSON.parse(bob.join(''))).toMatchObject({ state: 'approved', decidedBy: 'cli:bob' });
    });
  });
});

describe('CLI approvals forwarded to a running service', () => {
  let dir: string;
  let dataDir: string;
  let approvals: Seeded;
  let service: Awaited<ReturnType<typeof startService>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-identity-svc-'));
    dataDir = join(dir, 'data');
    approvals = await seedRenewalApprovals(dataDir);
    // The service binds the port itself: one taken since it was picked fails the start, and it is retried.
    service = await retryOnPortClash((port) => {
      env = {
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(port),
        CLI_APPROVERS: 'other',
      };
      return startService(env);
    });
  }, stepsBudget(3));
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** What the service says about the approval (the database is the service's while it runs). */
  async function forwardedState(id: string): Promise<string> {
    const listed = await runBin(['--json', 'approval', 'list', '--all'], { ...env, LOG_LEVEL: 'silent' });
    return (JSON.parse(listed.stdout) as { id: string; state: string }[]).find((a) => a.id === id)!.state;
  }

  it('the service runs the command as its own OS user: USER=other is no approver there either', async () => {
    const run = await runBin(['--json', 'approval', 'approve', approvals.alices], {
      ...env,
      LOG_LEVEL: 'silent',
      USER: 'other',
    });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(new RegExp(`^cli:${me} may not decide approvals; who may: cli:other`)),
    });
    expect(service.log()).toContain(`"user":"${me}"`);
    expect(await forwardedState(approvals.alices)).toBe('pending');
  });

  it('a client that claims another user on the socket is refused, and nothing runs', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = createConnection(join(dataDir, 'cli.sock'));
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.write(
        `${JSON.stringify({ argv: ['--json', 'approval', 'approve', approvals.alices], cwd: dir, user: 'other' })}\n`,
      );
    });
    const lines = reply
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { o?: string; exit?: number });
    expect(lines.at(-1)).toEqual({ exit: 2 });
    const printed = lines.map((l) => l.o ?? '').join('');
    expect(JSON.parse(printed).error).toEqual({
      code: 'forbidden',
      message: expect.stringContaining(
        `this service runs as ${me} and only ${me} can use its socket; the command says it comes from other`,
      ),
    });
    // The child's stderr is a different pipe from the socket: its line may arrive after the socket closed.
    await vi.waitFor(() => expect(service.log()).toContain('cli command refused'), { timeout: 10_000 });
    expect(await forwardedState(approvals.alices)).toBe('pending');
  });
});
