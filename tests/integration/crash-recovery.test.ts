import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certificateMatchesKey } from '../../core/domain/certificate-facts.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { type CliResult, runCli, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash, saysAddressInUse } from '../support/free-port.ts';
import { describeWithPebble, type PebbleHandle, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

/*
 * Time budget. Each CLI step is bounded on its own (STEP_BOUND_MS, sized for a loaded 2-core machine; see
 * tests/support/cli-process.ts), so a step that hangs fails by name. Setup and reads run in this process:
 * a spawn costs ~3-4 s of CPU (Node, tsx, PGlite), and seven of them per test is what made this test run
 * past 60 s at a load average of 13. Only the steps the test is about (the killed request, the resumes) spawn.
 */

type DbEnv = { DATA_DIR: string } | { DATABASE_URL: string };

/**
 * Runs the real CLI as a child process. On the embedded database it also serves HTTP-01 itself, on
 * RESPONDER_PORT; the dns-01 variant does not need that listener, so it gets a free port of its own (retried
 * if taken meanwhile), and no port Pebble validates against is bound by a process this test kills.
 */
async function cli(
  pebble: PebbleHandle,
  db: DbEnv,
  masterKey: string,
  args: string[],
  failpoint?: string,
): Promise<CliResult> {
  const env = (responderPort?: number): Record<string, string> => ({
    ...db,
    MASTER_KEY: masterKey,
    ACME_CA_FILE: pebble.caFile,
    RESPONDER_HOST: '127.0.0.1',
    ...(responderPort ? { RESPONDER_PORT: String(responderPort) } : {}),
    CHALLENGE_HTTP_PORT: String(pebble.httpPort),
    CHALLENGE_DNS_SERVERS: pebble.dnsServer,
    LOG_LEVEL: 'warn',
    ...(failpoint ? { BIGIP_ACME_FAILPOINT: failpoint } : {}),
  });
  if (!('DATA_DIR' in db)) return runCli(args, env());
  return retryOnPortClash(async (port) => {
    const result = await runCli(args, env(port));
    if (result.code !== 0 && saysAddressInUse(result.stderr)) throw new Error(result.stderr);
    return result;
  });
}

/** Opens the embedded database in this process (the CLI must not be running), runs `fn`, closes it again. */
async function withEmbedded<T>(
  dataDir: string,
  pebble: PebbleHandle,
  masterKey: string,
  fn: (core: TestCore) => Promise<T>,
): Promise<T> {
  const database = await openDatabase({ dataDir });
  try {
    await database.migrate();
    const core = await startTestCore(database, pebble, masterKey);
    try {
      return await fn(core);
    } finally {
      await core.close();
    }
  } finally {
    await database.close();
  }
}

type StoredCertificate = Awaited<ReturnType<TestCore['store']['certificates']['findByName']>>;

function expectSameKeyIssued(issued: StoredCertificate, afterOrder: StoredCertificate, masterKey: string) {
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
  const pebble = usePebble({ authzReuse: 0 });
  const masterKey = randomBytes(32).toString('base64');
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-crash-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(
    'resumes after a kill once the order exists and again once the challenge is answered',
    async () => {
      const p = pebble();
      const db = { DATA_DIR: dataDir };
      const name = 'crash-dns.example.test';
      const read = () => withEmbedded(dataDir, p, masterKey, (core) => core.store.certificates.findByName(name));
      await withEmbedded(dataDir, p, masterKey, async (core) => {
        await core.services.profiles.create(
          { name: 'p', server: p.directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          'test',
        );
        await core.services.domains.add('p', [name], 'dns-01', 'test');
      });

      const first = await cli(p, db, masterKey, ['cert', 'request', '--profile', 'p', '--cn', name], 'order_created');
      expect(first.signal, first.stderr).toBe('SIGKILL');
      const afterOrder = await read();
      expect(afterOrder?.state).toBe('ordering');
      expect(afterOrder?.orderUrl).toMatch(/^https:\/\//);
      expect(afterOrder?.keySealed).toBeTruthy();

      // The order's authorization is new: its TXT value is not published yet, so the request waits for it.
      const waiting = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
      expect(waiting.code, waiting.stderr).toBe(3);
      expect(JSON.parse(waiting.stdout).state).toBe('awaiting_challenge');
      // The content to publish is the order's authorization's, which that resume recorded for the domain.
      const content = await withEmbedded(dataDir, p, masterKey, (core) => core.services.domains.challenge({ name }));
      await p.setTxt(`_acme-challenge.${name}`, content.dns!.value);

      const second = await cli(p, db, masterKey, ['cert', 'resume', name], 'challenge_answered');
      expect(second.signal, second.stderr).toBe('SIGKILL');
      const afterAnswer = await read();
      expect(afterAnswer?.orderUrl).toBe(afterOrder?.orderUrl);
      expect(afterAnswer?.keySealed).toBe(afterOrder?.keySealed);

      const third = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
      expect(third.code, third.stdout + third.stderr).toBe(0);
      expect(JSON.parse(third.stdout).state).toBe('issued');
      expectSameKeyIssued(await read(), afterOrder, masterKey);
      // Four CLI steps; the in-process opens and Pebble's work fit in the rest of the budget.
    },
    stepsBudget(6),
  );
});

/* With PostgreSQL the responder is its own process, as in production: it keeps answering while the CLI dies. */
describeWithPebble(
  'SIGKILL mid-request on PostgreSQL (http-01, separate responder): resume issues with the same key',
  () => {
    const pebble = usePebble({ authzReuse: 0 });
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

    it.skipIf(!postgresUrl)(
      'resumes after a kill once the order exists and again once the challenge is answered (needs TEST_DATABASE_URL)',
      async () => {
        const p = pebble();
        const db = { DATABASE_URL: postgresUrl! };
        const name = 'crash-http.example.test';
        const read = () => responder!.store.certificates.findByName(name);
        await responder!.services.profiles.create(
          { name: 'p', server: p.directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          'test',
        );
        await responder!.services.domains.add('p', [name], 'http-01', 'test');

        const first = await cli(p, db, masterKey, ['cert', 'request', '--profile', 'p', '--cn', name], 'order_created');
        expect(first.signal, first.stderr).toBe('SIGKILL');
        const afterOrder = await read();
        expect(afterOrder?.state).toBe('ordering');
        expect(afterOrder?.orderUrl).toMatch(/^https:\/\//);

        const second = await cli(p, db, masterKey, ['cert', 'resume', name], 'challenge_answered');
        expect(second.signal, second.stderr).toBe('SIGKILL');
        const afterAnswer = await read();
        expect(afterAnswer?.orderUrl).toBe(afterOrder?.orderUrl);

        const third = await cli(p, db, masterKey, ['--json', 'cert', 'resume', name]);
        expect(third.code, third.stdout + third.stderr).toBe(0);
        expectSameKeyIssued(await read(), afterOrder, masterKey);
      },
      stepsBudget(4),
    );
  },
);
