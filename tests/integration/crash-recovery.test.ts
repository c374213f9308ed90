import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certificateMatchesKey } from '../../core/domain/certificate-facts.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { describeWithPebble, type PebbleHandle, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

const BIN = join(import.meta.dirname, '../../bin/bigip-acme');
const PORTS = { httpPort: 5412, tlsPort: 5411 };

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type DbEnv = { DATA_DIR: string } | { DATABASE_URL: string };

/** Runs the real CLI as a child process; on an embedded database it serves its own HTTP-01 challenges. */
function cli(pebble: PebbleHandle, db: DbEnv, masterKey: string, args: string[], failpoint?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...db,
        MASTER_KEY: masterKey,
        ACME_CA_FILE: pebble.caFile,
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(pebble.httpPort),
        CHALLENGE_HTTP_PORT: String(pebble.httpPort),
        CHALLENGE_DNS_SERVERS: pebble.dnsServer,
        LOG_LEVEL: 'warn',
        ...(failpoint ? { BIGIP_ACME_FAILPOINT: failpoint } : {}),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function readCertificate(open: () => Promise<Database>, name: string) {
  const database = await open();
  try {
    return await createDrizzleStore(database).certificates.findByName(name);
  } finally {
    await database.close();
  }
}

function expectSameKeyIssued(
  issued: Awaited<ReturnType<typeof readCertificate>>,
  afterOrder: Awaited<ReturnType<typeof readCertificate>>,
  masterKey: string,
) {
  expect(issued?.state).toBe('issued');
  // Same key as stored before the first crash, same order, no replacement order.
  expect(issued?.keySealed).toBe(afterOrder?.keySealed);
  expect(issued?.orderUrl).toBe(afterOrder?.orderUrl);
  expect(issued?.orderAttempts).toBe(1);
  const keyPem = createSecretBox(masterKey).open(issued!.keySealed!, secretAad('certificates', issued!.id, 'key'));
  expect(certificateMatchesKey(issued!.chainPem!, keyPem)).toBe(true);
}

/*
 * On embedded PGlite the issuing process is also the only one that can serve HTTP-01, so killing it kills
 * the responder too; this variant uses dns-01, whose content lives in DNS, independent of the process.
 */
describeWithPebble('SIGKILL mid-request on embedded PGlite (dns-01): resume issues with the same key', () => {
  const pebble = usePebble({ authzReuse: 0, ...PORTS });
  const masterKey = randomBytes(32).toString('base64');
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-crash-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('resumes after a kill once the order exists and again once the challenge is answered', async () => {
    const p = pebble();
    const db = { DATA_DIR: dataDir };
    const open = () => openDatabase({ dataDir });
    const name = 'crash-dns.example.test';
    const setup = await cli(p, db, masterKey, ['profile', 'create', 'p', '--server', p.directoryUrl, '--accept-tos']);
    expect(setup.code, setup.stderr).toBe(0);
    expect((await cli(p, db, masterKey, ['domain', 'add', '--profile', 'p', '--challenge', 'dns', name])).code).toBe(0);

    const first = await cli(p, db, masterKey, ['cert', 'request', '--profile', 'p', '--cn', name], 'order_created');
    expect(first.signal).toBe('SIGKILL');
    const afterOrder = await readCertificate(open, name);
    expect(afterOrder?.state).toBe('ordering');
    expect(afterOrder?.orderUrl).toMatch(/^https:\/\//);
    expect(afterOrder?.keySealed).toBeTruthy();

    // The order's authorization is new: its TXT value is not published yet, so the request waits for it.
    const waiting = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
    expect(waiting.code).toBe(3);
    expect(JSON.parse(waiting.stdout).state).toBe('awaiting_challenge');
    const content = JSON.parse((await cli(p, db, masterKey, ['--json', 'domain', 'challenge', name])).stdout);
    await p.setTxt(`_acme-challenge.${name}`, content.dns.value);

    const second = await cli(p, db, masterKey, ['cert', 'resume', name], 'challenge_answered');
    expect(second.signal).toBe('SIGKILL');
    const afterAnswer = await readCertificate(open, name);
    expect(afterAnswer?.orderUrl).toBe(afterOrder?.orderUrl);
    expect(afterAnswer?.keySealed).toBe(afterOrder?.keySealed);

    const third = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).state).toBe('issued');
    expectSameKeyIssued(await readCertificate(open, name), afterOrder, masterKey);
  });
});

/* With PostgreSQL the responder is its own process, as in production: it keeps answering while the CLI dies. */
describeWithPebble('SIGKILL mid-request on PostgreSQL (http-01, separate responder): resume issues with the same key', () => {
  const pebble = usePebble({ authzReuse: 0, ...PORTS });
  const masterKey = randomBytes(32).toString('base64');
  let database: Database | undefined;
  let responder: TestCore | undefined;
  beforeAll(async () => {
    if (!postgresUrl) return;
    database = await freshDatabase(() => openDatabase({ url: postgresUrl! }));
    responder = await startTestCore(database, pebble(), masterKey);
  });
  afterAll(async () => {
    await responder?.close();
    await database?.close();
  });

  it.skipIf(!postgresUrl)('resumes after a kill once the order exists and again once the challenge is answered (needs TEST_DATABASE_URL)', async () => {
    const p = pebble();
    const db = { DATABASE_URL: postgresUrl! };
    const open = () => openDatabase({ url: postgresUrl! });
    const name = 'crash-http.example.test';
    const setup = await cli(p, db, masterKey, ['profile', 'create', 'p', '--server', p.directoryUrl, '--accept-tos']);
    expect(setup.code, setup.stderr).toBe(0);
    expect((await cli(p, db, masterKey, ['domain', 'add', '--profile', 'p', name])).code).toBe(0);

    const first = await cli(p, db, masterKey, ['cert', 'request', '--profile', 'p', '--cn', name], 'order_created');
    expect(first.signal).toBe('SIGKILL');
    const afterOrder = await readCertificate(open, name);
    expect(afterOrder?.state).toBe('ordering');
    expect(afterOrder?.orderUrl).toMatch(/^https:\/\//);

    const second = await cli(p, db, masterKey, ['cert', 'resume', name], 'challenge_answered');
    expect(second.signal).toBe('SIGKILL');
    const afterAnswer = await readCertificate(open, name);
    expect(afterAnswer?.orderUrl).toBe(afterOrder?.orderUrl);

    const third = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expectSameKeyIssued(await readCertificate(open, name), afterOrder, masterKey);
  });
});
