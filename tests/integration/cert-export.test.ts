import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { splitPemChain } from '../../core/domain/x509.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { type CliResult, runCli, startCliService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';
import { describeWithPebble, type PebbleHandle, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

/**
 * Issue 14, capability 5: `cert export --format pem|fullchain|pkcs12`, driven through the real CLI process
 * against certificates Pebble issued (an EC P-256 and an RSA 2048 one), on embedded PGlite and on PostgreSQL.
 * The PKCS#12 files are checked by OpenSSL (friendly name, every certificate, the MAC refusing a wrong
 * passphrase) and by Node's TLS stack, which serves a handshake from them that a client verifies against
 * Pebble's root. Bad input fails with a clear error and writes nothing, audits nothing; no output holds a key.
 */

interface Issued {
  name: string;
  serial: string;
  chainPem: string;
  keyPem: string;
}

/** Issues `name` on `profile` (http-01, answered by the test core's responder) and reads back its key. */
async function issue(core: TestCore, masterKey: string, profile: string, name: string): Promise<Issued> {
  await core.services.domains.add(profile, [name], 'http-01', 'test');
  const cert = await core.services.certificates.request({ profile, commonName: name }, 'test');
  expect(cert.state).toBe('issued');
  const row = (await core.store.certificates.findByName(cert.name))!;
  const keyPem = createSecretBox(masterKey).open(row.keySealed!, secretAad('certificates', row.id, 'key'));
  return { name: cert.name, serial: cert.serial!, chainPem: cert.chainPem!, keyPem };
}

/** Sets up profiles and two issued certificates on `database`, then closes what it opened. */
async function seed(database: Database, pebble: PebbleHandle, masterKey: string, tag: string) {
  const core = await startTestCore(database, pebble, masterKey);
  try {
    for (const [name, keySpec] of [
      ['ec', 'ec-p256'],
      ['rsa', 'rsa-2048'],
    ] as const)
      await core.services.profiles.create({ name, server: pebble.directoryUrl, keySpec, acceptTos: true }, 'test');
    return {
      ec: await issue(core, masterKey, 'ec', `ec.${tag}.export.test`),
      rsa: await issue(core, masterKey, 'rsa', `rsa.${tag}.export.test`),
    };
  } finally {
    await core.close();
  }
}

/** `openssl pkcs12 -info` on `file`, certificates only, the passphrase read from `passFile`. */
function opensslInfo(file: string, passFile: string) {
  return spawnSync('openssl', ['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `file:${passFile}`], {
    encoding: 'utf8',
  });
}

/** A TLS server built from the PKCS#12 file, one verified handshake, and the serial the server presented. */
async function servedSerial(pfx: Buffer, passphrase: string, rootPem: string, servername: string): Promise<string> {
  const server = tls.createServer({ pfx, passphrase }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: rootPem }, () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve(serial);
      });
      socket.once('error', reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const databases = [
  { kind: 'pglite' as const, enabled: true },
  { kind: 'postgres' as const, enabled: Boolean(postgresUrl) },
];

for (const target of databases) {
  describeWithPebble(`cert export on ${target.kind}, through the real CLI`, () => {
    const pebble = usePebble();
    const masterKey = randomBytes(32).toString('base64');
    const passphrase = `export-passphrase-${randomBytes(6).toString('hex')}`;
    let dir: string;
    let out: string;
    let env: Record<string, string>;
    let certs: Awaited<ReturnType<typeof seed>>;
    let root: string;
    let database: Database | undefined;
    const transcript: CliResult[] = [];

    /** Runs the CLI in `out` (relative paths resolve there), with `stdin` when given. */
    async function cli(args: string[], stdin?: string): Promise<CliResult> {
      const result = await runCli(['--json', ...args], env, undefined, stdin);
      transcript.push(result);
      return result;
    }
    const files = () => readdirSync(out).sort();
    const exportsAudited = async () => {
      const audit = await cli(['audit', '--action', 'certificate.export', '--limit', '1000']);
      expect(audit.code, audit.stderr).toBe(0);
      return JSON.parse(audit.stdout) as { action: string; detail: Record<string, unknown> }[];
    };

    beforeAll(async () => {
      if (!target.enabled) return;
      dir = mkdtempSync(join(tmpdir(), `bigip-acme-export-${target.kind}-`));
      out = join(dir, 'out');
      mkdirSync(out);
      writeFileSync(join(dir, 'pass'), `${passphrase}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'wrong-pass'), 'not-the-passphrase\n', { mode: 0o600 });
      writeFileSync(join(dir, 'short-pass'), 'abc\n', { mode: 0o600 });
      writeFileSync(join(dir, 'empty-pass'), '', { mode: 0o600 });
      const p = pebble();
      root = await p.rootsPem();
      const common = { MASTER_KEY: masterKey, ACME_CA_FILE: p.caFile, LOG_LEVEL: 'warn' };
      if (target.kind === 'pglite') {
        const dataDir = join(dir, 'data');
        database = await openDatabase({ dataDir });
        await database.migrate();
        certs = await seed(database, p, masterKey, 'pl');
        // Embedded PGlite belongs to one process: the CLI opens it itself.
        await database.close();
        database = undefined;
        env = { ...common, DATA_DIR: dataDir };
      } else {
        database = await freshDatabase(() => openDatabase({ url: postgresUrl! }));
        certs = await seed(database, p, masterKey, 'pg');
        env = { ...common, DATABASE_URL: postgresUrl!, DATA_DIR: join(dir, 'data') };
      }
    }, stepsBudget(2));
    afterAll(async () => {
      await database?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.skipIf(!target.enabled)(
      'pkcs12 (EC): one 0600 file with key, leaf and intermediates that OpenSSL and a Node TLS server accept',
      async () => {
        const file = join(out, 'ec.p12');
        const run = await cli([
          'cert',
          'export',
          certs.ec.name,
          '--format',
          'pkcs12',
          '--out',
          file,
          '--passphrase-file',
          join(dir, 'pass'),
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const chainLength = splitPemChain(certs.ec.chainPem).length;
        expect(chainLength).toBeGreaterThanOrEqual(2);
        expect(JSON.parse(run.stdout)).toEqual({
          format: 'pkcs12',
          out: file,
          friendlyName: certs.ec.name,
          certificates: chainLength,
          serial: certs.ec.serial,
        });
        expect(statSync(file).mode & 0o777).toBe(0o600);

        const info = opensslInfo(file, join(dir, 'pass'));
        expect(info.status, info.stderr).toBe(0);
        expect(info.stdout).toContain(`friendlyName: ${certs.ec.name}`);
        expect(info.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(chainLength);
        // The algorithms are the modern ones, and OpenSSL 3 reads them without -legacy.
        expect(info.stderr).toContain('MAC: sha256');
        expect(info.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
        expect(info.stderr).toContain('PRF hmacWithSHA256');
        const wrong = opensslInfo(file, join(dir, 'wrong-pass'));
        expect(wrong.status).not.toBe(0);
        expect(wrong.stderr).toContain('Mac verify error');

        const pfx = readFileSync(file);
        expect(() => tls.createSecureContext({ pfx, passphrase: 'not-the-passphrase' })).toThrow();
        const served = await servedSerial(pfx, passphrase, root, certs.ec.name);
        expect(served.toLowerCase()).toBe(certs.ec.serial.toLowerCase());
      },
      stepsBudget(1),
    );

    it.skipIf(!target.enabled)(
      'pkcs12 (RSA): the passphrase from stdin, a friendly name of choice; --force replaces, nothing else does',
      async () => {
        const file = join(out, 'rsa.p12');
        const args = ['cert', 'export', certs.rsa.name, '--format', 'pkcs12', '--out', file, '--passphrase-file', '-'];
        const run = await cli([...args, '--friendly-name', 'web server (RSA)'], `${passphrase}\n`);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ friendlyName: 'web server (RSA)', serial: certs.rsa.serial });
        const info = opensslInfo(file, join(dir, 'pass'));
        expect(info.status, info.stderr).toBe(0);
        expect(info.stdout).toContain('friendlyName: web server (RSA)');
        const first = readFileSync(file);
        expect((await servedSerial(first, passphrase, root, certs.rsa.name)).toLowerCase()).toBe(
          certs.rsa.serial.toLowerCase(),
        );

        // The file exists now: a second export is refused and leaves it as it was.
        const again = await cli(args, `${passphrase}\n`);
        expect(again.code).toBe(2);
        expect(JSON.parse(again.stdout).error).toEqual({
          code: 'conflict',
          message: `${file} already exists; nothing was written (use --force to replace it)`,
        });
        expect(readFileSync(file).equals(first)).toBe(true);

        const forced = await cli([...args, '--force'], `${passphrase}\n`);
        expect(forced.code, forced.stdout + forced.stderr).toBe(0);
        const replaced = readFileSync(file);
        // A fresh salt and IV each time: a new file, which still opens.
        expect(replaced.equals(first)).toBe(false);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(opensslInfo(file, join(dir, 'pass')).stdout).toContain(`friendlyName: ${certs.rsa.name}`);
        expect(files().filter((f) => f.endsWith('.tmp'))).toEqual([]);
      },
      stepsBudget(3),
    );

    it.skipIf(!target.enabled)(
      'pem is the leaf, fullchain (still the default) the stored chain, the key only as --key-out 0600',
      async () => {
        const pem = await cli(['cert', 'export', certs.ec.name, '--format', 'pem', '--out', join(out, 'leaf.pem')]);
        expect(pem.code, pem.stderr).toBe(0);
        const leaf = readFileSync(join(out, 'leaf.pem'), 'utf8');
        expect(splitPemChain(leaf)).toHaveLength(1);
        expect(new X509Certificate(leaf).serialNumber.toLowerCase()).toBe(certs.ec.serial.toLowerCase());

        const full = await cli(['cert', 'export', certs.rsa.name]);
        expect(full.code, full.stderr).toBe(0);
        expect(JSON.parse(full.stdout)).toEqual({ chainPem: certs.rsa.chainPem, key: null });

        const withKey = await cli([
          'cert',
          'export',
          certs.rsa.name,
          '--format',
          'fullchain',
          '--out',
          join(out, 'rsa.crt'),
          '--include-key',
          '--key-out',
          join(out, 'rsa.key'),
        ]);
        expect(withKey.code, withKey.stderr).toBe(0);
        expect(readFileSync(join(out, 'rsa.crt'), 'utf8')).toBe(certs.rsa.chainPem);
        expect(readFileSync(join(out, 'rsa.key'), 'utf8')).toBe(certs.rsa.keyPem);
        expect(statSync(join(out, 'rsa.key')).mode & 0o777).toBe(0o600);
      },
      stepsBudget(3),
    );

    it.skipIf(!target.enabled)(
      'refuses bad input with a clear error, writing nothing and auditing nothing',
      async () => {
        const auditedBefore = await exportsAudited();
        const filesBefore = files();
        const file = join(out, 'refused.p12');
        const pkcs12 = (name: string, ...more: string[]) => [
          'cert',
          'export',
          name,
          '--format',
          'pkcs12',
          '--out',
          file,
          ...more,
        ];
        const cases: [string, string[], string, string, string?][] = [
          [
            'an unknown certificate',
            pkcs12('nope.export.test', '--passphrase-file', join(dir, 'pass')),
            'not_found',
            'no certificate named "nope.export.test" (see: bigip-acme cert list)',
          ],
          [
            'an unknown format',
            ['cert', 'export', certs.ec.name, '--format', 'pfx', '--out', file],
            'input_invalid',
            'unknown export format "pfx" (formats: pem, fullchain, pkcs12)',
          ],
          [
            'no passphrase file',
            pkcs12(certs.ec.name),
            'input_invalid',
            'a PKCS#12 file needs --passphrase-file FILE (or - for stdin); passphrases are never taken on the command line',
          ],
          [
            'a passphrase file that does not exist',
            pkcs12(certs.ec.name, '--passphrase-file', join(dir, 'missing-pass')),
            'input_invalid',
            `cannot read the passphrase file ${join(dir, 'missing-pass')} (ENOENT)`,
          ],
          [
            'a short passphrase',
            pkcs12(certs.ec.name, '--passphrase-file', join(dir, 'short-pass')),
            'input_invalid',
            'the PKCS#12 passphrase must be at least 4 characters',
          ],
          [
            'an empty passphrase file',
            pkcs12(certs.ec.name, '--passphrase-file', join(dir, 'empty-pass')),
            'input_invalid',
            'a PKCS#12 file needs a passphrase',
          ],
          [
            'an empty passphrase on stdin',
            pkcs12(certs.ec.name, '--passphrase-file', '-'),
            'input_invalid',
            'a PKCS#12 file needs a passphrase',
            '\n',
          ],
          [
            'a passphrase on the command line',
            pkcs12(certs.ec.name, '--passphrase', passphrase),
            'usage',
            "unknown option '--passphrase'",
          ],
          [
            'no output file',
            ['cert', 'export', certs.ec.name, '--format', 'pkcs12', '--passphrase-file', join(dir, 'pass')],
            'input_invalid',
            'a PKCS#12 file is binary: give --out FILE',
          ],
          [
            'a separate key file',
            pkcs12(certs.ec.name, '--passphrase-file', join(dir, 'pass'), '--include-key', '--key-out', join(out, 'k')),
            'input_invalid',
            'a PKCS#12 file holds the key itself; --include-key and --key-out are for pem and fullchain',
          ],
          [
            'a friendly name with a line break',
            pkcs12(certs.ec.name, '--passphrase-file', join(dir, 'pass'), '--friendly-name', 'two\nlines'),
            'input_invalid',
            'the friendly name must not contain control characters',
          ],
          [
            'an output directory that does not exist',
            [
              'cert',
              'export',
              certs.ec.name,
              '--format',
              'pkcs12',
              '--out',
              join(out, 'no', 'x.p12'),
              '--passphrase-file',
              join(dir, 'pass'),
            ],
            'input_invalid',
            `cannot write ${join(out, 'no', 'x.p12')} (ENOENT)`,
          ],
          [
            'a passphrase for a PEM format',
            ['cert', 'export', certs.ec.name, '--format', 'pem', '--out', file, '--passphrase-file', join(dir, 'pass')],
            'input_invalid',
            '--passphrase-file is for --format pkcs12 (pem and fullchain files are replaced as before)',
          ],
        ];
        for (const [what, args, code, message, stdin] of cases) {
          const run = await cli(args, stdin);
          expect(run.code, `${what}: ${run.stdout}${run.stderr}`).toBe(2);
          expect(JSON.parse(run.stdout).error, what).toEqual({ code, message });
        }
        expect(files()).toEqual(filesBefore);
        expect(await exportsAudited()).toEqual(auditedBefore);
      },
      stepsBudget(15),
    );

    it.skipIf(!target.enabled)(
      'audited every export with its format and whether it held the key; printed no key and no passphrase',
      async () => {
        const audited = await exportsAudited();
        // Newest first: the RSA PKCS#12 export twice (created, then replaced), and the PEM exports.
        expect(audited.map((e) => e.detail).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
          [
            { format: 'fullchain', includeKey: false },
            { format: 'fullchain', includeKey: true },
            { format: 'pem', includeKey: false },
            { format: 'pkcs12', includeKey: true, friendlyName: certs.ec.name },
            { format: 'pkcs12', includeKey: true, friendlyName: certs.rsa.name },
            { format: 'pkcs12', includeKey: true, friendlyName: 'web server (RSA)' },
          ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        );
        const printed = transcript.map((r) => r.stdout + r.stderr).join('\n');
        expect(printed).toContain('BEGIN CERTIFICATE');
        expect(printed).not.toContain('PRIVATE KEY');
        expect(printed).not.toContain(passphrase);
        for (const key of [certs.ec.keyPem, certs.rsa.keyPem])
          for (const line of key.split('\n').filter((l) => l && !l.startsWith('-----')))
            expect(printed).not.toContain(line);
        // The PKCS#12 bytes never reach stdout either.
        const der = readFileSync(join(out, 'ec.p12')).subarray(0, 64).toString('base64');
        expect(printed).not.toContain(der);
        // And the key OpenSSL finds inside is the issued one.
        const key = execFileSync(
          'openssl',
          ['pkcs12', '-in', join(out, 'ec.p12'), '-nocerts', '-nodes', '-passin', `file:${join(dir, 'pass')}`],
          { encoding: 'utf8' },
        );
        expect(key.slice(key.indexOf('-----BEGIN PRIVATE KEY-----')).trim()).toBe(certs.ec.keyPem.trim());
      },
      stepsBudget(1),
    );

    it.skipIf(target.kind !== 'pglite')(
      'forwarded to a running service on the embedded database: the service writes the file; stdin is refused',
      async () => {
        const service = await retryOnPortClash((port) =>
          startCliService(
            ['serve'], // Info: the ready lines are logged at that level.
            { ...env, RESPONDER_HOST: '127.0.0.1', RESPONDER_PORT: String(port), LOG_LEVEL: 'info' },
            ['responder listening', 'Slack bot off'],
          ),
        );
        try {
          const file = join(out, 'forwarded.p12');
          const args = ['cert', 'export', certs.ec.name, '--format', 'pkcs12', '--out', file];
          const fromStdin = await cli([...args, '--passphrase-file', '-'], `${passphrase}\n`);
          expect(fromStdin.code).toBe(2);
          expect(JSON.parse(fromStdin.stdout).error.message).toBe(
            "a running service cannot read this terminal's stdin; give the passphrase in a file (mode 0600)",
          );
          expect(files()).not.toContain('forwarded.p12');

          const run = await cli([...args, '--passphrase-file', join(dir, 'pass')]);
          expect(run.code, run.stdout + run.stderr).toBe(0);
          expect(service.log()).toContain('"argv":["cert","export"]');
          expect(statSync(file).mode & 0o777).toBe(0o600);
          expect(opensslInfo(file, join(dir, 'pass')).stdout).toContain(`friendlyName: ${certs.ec.name}`);
          expect(service.log()).not.toContain(passphrase);
          expect(service.log()).not.toContain('PRIVATE KEY');
        } finally {
          await service.stop();
        }
      },
      stepsBudget(4),
    );
  });
}
