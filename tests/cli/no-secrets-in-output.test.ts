import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger, openRuntime, type Runtime } from '../../runtime.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, type PebbleHandle, startPebble } from '../support/pebble.ts';

/**
 * A realistic session, every command that produces a result run with `--json` and as text, against a real
 * CA (Pebble), a simulated BIG-IP and the embedded database, through `runCli` as `main.ts` wires it (this
 * process serves the challenges). Then everything printed, and everything logged, is searched for a
 * private key, a sealed value and every password, passphrase and key the session used.
 */
describeWithPebble('no private key, sealed value or password in any CLI output', () => {
  const secrets = {
    masterKey: randomBytes(32).toString('base64'),
    eabHmac1: randomBytes(32).toString('base64url'),
    eabHmac2: randomBytes(32).toString('base64url'),
    endpointPassword: 'endpoint-password-Zq81xT',
    devicePassword: 'device-password-Kw55rP',
    passphrase: 'passphrase-for-the-key-Hn3',
  };
  let pebble: PebbleHandle;
  let sim: BigIpSimulator;
  let dir: string;
  let rt: Runtime;
  let logs = '';
  const transcript: string[] = [];

  beforeAll(async () => {
    pebble = await startPebble({ authzReuse: 0, eabKeys: { kid1: secrets.eabHmac1, kid2: secrets.eabHmac2 } });
    sim = await startBigIpSimulator({ password: secrets.devicePassword });
    sim.addProfile('/Common/acme_secrets', { defaultsFrom: '/Common/clientssl' });
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-secrets-'));
    const file = (name: string, body: string) => writeFileSync(join(dir, name), `${body}\n`, { mode: 0o600 });
    file('eab1', secrets.eabHmac1);
    file('eab2', secrets.eabHmac2);
    file('endpoint.pw', secrets.endpointPassword);
    file('device.pw', secrets.devicePassword);
    file('pass', secrets.passphrase);
    writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
    const config = loadConfig({
      DATA_DIR: join(dir, 'data'),
      MASTER_KEY: secrets.masterKey,
      ACME_CA_FILE: pebble.caFile,
      RESPONDER_HOST: '127.0.0.1',
      RESPONDER_PORT: String(pebble.httpPort),
      TLS_ALPN_PORT: String(pebble.tlsPort),
      CHALLENGE_HTTP_PORT: String(pebble.httpPort),
      CHALLENGE_TLS_PORT: String(pebble.tlsPort),
      CHALLENGE_DNS_SERVERS: pebble.dnsServer,
      CLI_APPROVERS: 'alice,bob',
      LOG_LEVEL: 'debug',
    });
    rt = await openRuntime(
      config,
      createLogger(config, {
        write: (line: string) => {
          logs += line;
        },
      }),
    );
  });
  afterAll(async () => {
    await rt?.close();
    await sim?.close();
    await pebble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One command as `user` (the actor `cli:<user>`); its output joins the transcript. */
  async function cli(args: string[], expected = 0, user = 'alice'): Promise<string> {
    let out = '';
    const code = await runCli(args, {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        out += t;
      },
      cwd: dir,
      user,
      withRuntime: (fn) => fn(rt),
      servesChallenges: true,
    });
    transcript.push(`$ ${args.join(' ')}\n${out}`);
    expect(code, `${args.join(' ')}\n${out}`).toBe(expected);
    return out;
  }
  /** Runs a read-only command both ways; returns the JSON result. */
  async function both(args: string[], expected = 0): Promise<unknown> {
    await cli(args, expected);
    return JSON.parse(await cli(['--json', ...args], expected));
  }
  const json = async (args: string[], expected = 0) => JSON.parse(await cli(['--json', ...args], expected));

  it('runs the whole lifecycle, then finds no secret in what was printed or logged', async () => {
    const directory = pebble.directoryUrl;
    await both(['profile', 'validate', directory]);
    await cli([
      'profile',
      'create',
      'p',
      '--server',
      directory,
      '--accept-tos',
      '--eab-kid',
      'kid1',
      '--eab-hmac-key-file',
      'eab1',
    ]);
    await json([
      'profile',
      'create',
      'p2',
      '--server',
      directory,
      '--accept-tos',
      '--eab-kid',
      'kid2',
      '--eab-hmac-key-file',
      'eab2',
    ]);
    await both(['profile', 'list']);
    await both(['profile', 'show', 'p']);

    // One domain per challenge type, each added once in text and once as JSON.
    await cli(['domain', 'add', 'http.secrets.test', '--profile', 'p']);
    await json(['domain', 'add', 'http2.secrets.test', '--profile', 'p']);
    await cli(['domain', 'add', 'dns.secrets.test', '--profile', 'p', '--challenge', 'dns-01']);
    await json(['domain', 'add', 'dns2.secrets.test', '--profile', 'p', '--challenge', 'dns-01']);
    await cli(['domain', 'add', 'tls.secrets.test', '--profile', 'p', '--challenge', 'tls-alpn-01']);
    const [tlsAdded] = (await json([
      'domain',
      'add',
      'tls2.secrets.test',
      '--profile',
      'p',
      '--challenge',
      'tls-alpn-01',
    ])) as { tls: object }[];
    // The certificate is shown; its throwaway key is not.
    expect(tlsAdded!.tls).toEqual({ certPem: expect.stringContaining('BEGIN CERTIFICATE') });

    await both(['domain', 'list']);
    for (const name of ['http.secrets.test', 'dns.secrets.test', 'tls.secrets.test']) {
      await both(['domain', 'show', name]);
      const shown = (await both(['domain', 'challenge', name])) as { tls?: object };
      if (shown.tls) expect(Object.keys(shown.tls)).toEqual(['certPem']);
    }
    // Asked for explicitly, the key goes to a file, owner-only, and its path is all that is printed.
    const written = (await json(['domain', 'challenge', 'tls.secrets.test', '--out', 'challenge'])) as {
      files: string[];
    };
    const keyFile = written.files.find((f) => f.endsWith('.key'))!;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const challengeKey = readFileSync(keyFile, 'utf8');
    expect(challengeKey).toContain('PRIVATE KEY');

    await cli([
      'domain',
      'endpoint',
      'set',
      'http2.secrets.test',
      '--url',
      'https://hooks.example.test/acme',
      '--username',
      'hook',
      '--password-file',
      'endpoint.pw',
    ]);
    await json(['domain', 'endpoint', 'set', 'tls2.secrets.test', '--builtin']);
    await cli(['domain', 'test', 'http.secrets.test']);
    await json(['domain', 'test', 'tls.secrets.test']);

    await cli(['cert', 'request', '--profile', 'p', '--cn', 'http.secrets.test', '--passphrase-file', 'pass']);
    await json(['cert', 'request', '--profile', 'p', '--cn', 'tls.secrets.test', '--passphrase-file', 'pass']);
    await both(['cert', 'list']);
    await both(['cert', 'show', 'http.secrets.test']);
    await both(['cert', 'export', 'http.secrets.test']);
    await json(['cert', 'export', 'tls.secrets.test', '--out', 'tls.crt', '--include-key', '--key-out', 'tls.key']);
    const certKey = readFileSync(join(dir, 'tls.key'), 'utf8');
    // A PKCS#12 file under the session's passphrase: neither it nor the key is printed or logged.
    await json([
      'cert',
      'export',
      'tls.secrets.test',
      '--format',
      'pkcs12',
      '--out',
      'tls.p12',
      '--passphrase-file',
      'pass',
    ]);
    expect(statSync(join(dir, 'tls.p12')).mode & 0o777).toBe(0o600);

    await cli([
      'device',
      'add',
      'lb1',
      '--url',
      sim.url,
      '--username',
      sim.username,
      '--password-file',
      'device.pw',
      '--ca-file',
      'ca.pem',
    ]);
    await both(['device', 'list']);
    await both(['device', 'show', 'lb1']);
    await both(['device', 'test', 'lb1']);
    await cli(['binding', 'add', '--cert', 'http.secrets.test', '--device', 'lb1', '--profile', 'acme_secrets']);
    await both(['binding', 'list']);
    await json(['cert', 'deploy', 'http.secrets.test']);
    await both(['cert', 'deployments', 'http.secrets.test']);

    // Semi-automatic: the renewal waits; its requester (alice) may not approve it, bob may.
    await cli(['profile', 'update', 'p', '--renew-approval', 'on']);
    const cert = (await rt.store.certificates.findByName('http.secrets.test'))!;
    await rt.store.certificates.update(cert.id, { renewAt: new Date(Date.now() - 1000) });
    expect(await json(['jobs', 'run', 'renew'])).toMatchObject({ waiting: ['http.secrets.test'] });
    const [approval] = (await both(['approval', 'list'])) as { id: string; requestedBy: string }[];
    expect(approval!.requestedBy).toBe('cli:alice');
    expect((await json(['approval', 'approve', approval!.id], 2)).error.code).toBe('forbidden');
    await cli(['approval', 'approve', approval!.id], 0, 'bob');
    await both(['jobs', 'status']);

    // Reconfigure hands out fresh TLS-ALPN-01 content (and a fresh key) for an expired authorization.
    const tls2 = (await rt.store.domains.listByProfile((await rt.store.profiles.findByName('p'))!.id)).find(
      (d) => d.name === 'tls2.secrets.test',
    )!;
    await rt.store.authorizations.update(tls2.currentAuthorizationId!, { expiresAt: new Date(Date.now() - 1000) });
    const refreshed = (await json(['domain', 'reconfigure', '--profile', 'p'])) as { domain: string; tls?: object }[];
    expect(refreshed.find((c) => c.domain === 'tls2.secrets.test')?.tls).toEqual({ certPem: expect.any(String) });
    await json(['jobs', 'run', 'reconfigure']);

    const printed = transcript.join('\n');
    expect(printed).toContain('BEGIN CERTIFICATE');
    for (const [where, text] of [
      ['output', printed],
      ['logs', logs],
    ] as const) {
      expect(text, where).not.toContain('PRIVATE KEY');
      expect(text, where).not.toMatch(/v1\.[0-9a-f]{16}\./);
      // The last guard in the output never had to step in: the results themselves carry no secret.
      expect(text, where).not.toContain('withheld');
      for (const [name, value] of Object.entries(secrets)) expect(text, `${name} in ${where}`).not.toContain(value);
      for (const key of [challengeKey, certKey]) {
        const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
        for (const line of body) expect(text, where).not.toContain(line);
      }
    }
  });
});
