import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import { publicView } from '../../core/domain/public-view.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { Runtime } from '../../runtime.ts';
import { makeCertificate } from '../fixtures/builders.ts';

/** A certificate whose renewal keeps failing while the live one is still issued and deployed. */
const failing: CertificateView = {
  ...publicView(
    makeCertificate('p', {
      name: 'www.example.com',
      state: 'issued',
      serial: '0abc',
      notBefore: new Date('2026-03-01T00:00:00Z'),
      notAfter: new Date('2026-03-07T00:00:00Z'),
      chainPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      renewalState: 'ordering',
      renewalStartedAt: new Date('2026-03-03T00:00:00Z'),
      renewalCsrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
      renewalKeySealed: 'v1.k1.sealed-next-key',
      failedAttempts: 4,
      nextAttemptAt: new Date('2026-03-03T01:04:00Z'),
      lastRenewalAttemptAt: new Date('2026-03-03T00:32:00Z'),
      lastRenewalError: {
        code: 'acme_unreachable',
        message: 'cannot reach the CA at https://ca.example to create an order: ECONNREFUSED',
        at: '2026-03-03T00:32:01.000Z',
      },
    }),
  ),
  profileName: 'prod',
  pendingDeploy: { at: new Date('2026-03-04T00:00:00Z'), due: false, reason: 'deploy_time', bindings: 2 },
};

async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const services = { certificates: { show: async () => failing, list: async () => [failing] } };
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: () => undefined,
    cwd: process.cwd(),
    user: 'test',
    servesChallenges: false,
    withRuntime: (fn) => fn({ services } as unknown as Runtime),
  });
  return { code, stdout };
}

describe('cert show and cert list say where a failing renewal stands', () => {
  it('cert show: still issued, with the last error, failed attempts, next attempt and the pending deploy', async () => {
    const { code, stdout } = await cli(['cert', 'show', 'www.example.com']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^state\s+issued$/m);
    expect(stdout).toMatch(/^renewal\s+ordering \(since 2026-03-03T00:00:00\.000Z\)$/m);
    expect(stdout).toMatch(
      /^lastRenewalError\s+acme_unreachable: cannot reach the CA .*ECONNREFUSED \(at 2026-03-03T00:32:01\.000Z\)$/m,
    );
    expect(stdout).toMatch(/^failedAttempts\s+4$/m);
    expect(stdout).toMatch(/^nextAttemptAt\s+2026-03-03T01:04:00\.000Z$/m);
    expect(stdout).toMatch(/^pendingDeploy\s+at 2026-03-04T00:00:00\.000Z \(profile deploy time; 2 binding\(s\)\)$/m);
  });

  it('cert show --json: the same fields, no CSR, no sealed key', async () => {
    const { code, stdout } = await cli(['--json', 'cert', 'show', 'www.example.com']);
    expect(code).toBe(0);
    const shown = JSON.parse(stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      state: 'issued',
      renewalState: 'ordering',
      failedAttempts: 4,
      nextAttemptAt: '2026-03-03T01:04:00.000Z',
      lastRenewalAttemptAt: '2026-03-03T00:32:00.000Z',
      lastRenewalError: { code: 'acme_unreachable', at: '2026-03-03T00:32:01.000Z' },
      pendingDeploy: { at: '2026-03-04T00:00:00.000Z', due: false, reason: 'deploy_time', bindings: 2 },
    });
    expect(stdout).not.toMatch(/sealed|BEGIN/);
  });

  it('cert list: a renewal column, the next attempt and the deploy time', async () => {
    const { stdout } = await cli(['cert', 'list']);
    const [head, row] = stdout.trim().split('\n');
    expect(head!.split(/\s+/)).toEqual([
      'NAME',
      'STATE',
      'COMMONNAME',
      'PROFILENAME',
      'NOTAFTER',
      'RENEWAL',
      'NEXTATTEMPT',
      'DEPLOY',
    ]);
    expect(row!.split(/\s+/)).toEqual([
      'www.example.com',
      'issued',
      'www.example.com',
      'prod',
      '2026-03-07T00:00:00.000Z',
      'failed',
      '4x',
      '(acme_unreachable)',
      '2026-03-03T01:04:00.000Z',
      '2026-03-04T00:00:00.000Z',
    ]);
  });
});

describe('cert show and cert list say a certificate is revoked', () => {
  const revokedAt = new Date('2026-03-05T10:00:00Z');
  const base = { ...failing, renewalState: null, failedAttempts: 0, lastRenewalError: null, pendingDeploy: null };
  const revoked: CertificateView = {
    ...base,
    revokedSerial: '0abc',
    revokedAt,
    revocationReason: 'keyCompromise',
    revokedBy: 'cli:alice',
  };
  const replaced: CertificateView = { ...revoked, serial: '0def' };
  const served: CertificateView = {
    ...base,
    serial: '0def',
    revokedSerial: '0abc',
    revokedAt,
    revocationReason: 'superseded',
    revokedBy: 'cli:alice',
    pendingDeploy: { at: revokedAt, due: true, reason: 'served_revoked', bindings: 1 },
  };

  async function run(view: CertificateView, args: string[]): Promise<string> {
    let stdout = '';
    const services = { certificates: { show: async () => view, list: async () => [view] } };
    await runCli(args, {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
      cwd: process.cwd(),
      user: 'test',
      servesChallenges: false,
      withRuntime: (fn) => fn({ services } as unknown as Runtime),
    });
    return stdout;
  }

  it('the live certificate revoked: reason, when, by whom; the list marks its state', async () => {
    expect(await run(revoked, ['cert', 'show', 'www.example.com'])).toMatch(
      /^revoked\s+yes: keyCompromise at 2026-03-05T10:00:00\.000Z by cli:alice$/m,
    );
    const [, row] = (await run(revoked, ['cert', 'list'])).trim().split('\n');
    expect(row!.split(/\s{2,}/).slice(0, 2)).toEqual(['www.example.com', 'issued (revoked)']);
  });

  it('after a reissue: which previous serial was revoked, and the state is plain issued', async () => {
    expect(await run(replaced, ['cert', 'show', 'www.example.com'])).toMatch(
      /^revoked\s+previous serial 0abc: keyCompromise at 2026-03-05T10:00:00\.000Z by cli:alice$/m,
    );
    const [, row] = (await run(replaced, ['cert', 'list'])).trim().split('\n');
    expect(row!.split(/\s{2,}/).slice(0, 2)).toEqual(['www.example.com', 'issued']);
  });

  it('a replacement waiting to be deployed because the revoked one is served says why it is due', async () => {
    expect(await run(served, ['cert', 'show', 'www.example.com'])).toMatch(
      /^pendingDeploy\s+due since 2026-03-05T10:00:00\.000Z \(what is served was revoked; 1 binding\(s\)\)$/m,
    );
  });
});
