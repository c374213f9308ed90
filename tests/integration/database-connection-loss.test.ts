import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../core/ports/logger.ts';
import { type Database, openDatabase, type Schema } from '../../db/client.ts';
import { isConnectionLoss } from '../../db/connection-loss.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { freePort } from '../support/serve-process.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

/*
 * The database adapter itself under connection loss, in this process: a killed backend must never surface
 * as an unhandled 'error' event (that is what killed every role, issue 11), queries must fail as
 * `db_unavailable`, and LISTEN must report the loss and come back with a resync.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function terminate(pid: number): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

async function until(what: string, ok: () => boolean, boundMs = 20_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${boundMs} ms`);
    await sleep(20);
  }
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: Record<string, unknown>, message: string) =>
    void lines.push(`${level} ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe.skipIf(!postgresUrl)('the PostgreSQL adapter under connection loss (needs TEST_DATABASE_URL)', () => {
  let database: Database;
  const log = recordingLogger();

  beforeAll(async () => {
    await (await freshDatabase(() => openDatabase({ url: postgresUrl! }))).close();
    database = await openDatabase({ url: postgresUrl! }, { log });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('a backend killed while checked out inside a transaction fails that transaction as a connection loss, and the next query works', async () => {
    const db = database.db as NodePgDatabase<Schema>;
    const failure = await db
      .transaction(async (tx) => {
        const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        await terminate(rows[0]!.pid);
        // The connection dies while no statement runs: node-postgres emits 'error' on the checked-out client.
        await sleep(300);
        await tx.execute(sql`select 1`);
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(isConnectionLoss(failure)).toBe(true);
    const store = createDrizzleStore(database);
    await expect(store.profiles.list()).resolves.toEqual([]);
  });

  it('an idle pooled connection killed is logged, not thrown, and the store goes on', async () => {
    const store = createDrizzleStore(database);
    await store.profiles.list();
    const db = database.db as NodePgDatabase<Schema>;
    const { rows } = await db.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
    await terminate(rows[0]!.pid);
    await until('pool error logged', () =>
      log.lines.some((l) => l.startsWith('warn lost an idle database connection')),
    );
    await expect(store.profiles.list()).resolves.toEqual([]);
  });

  it('LISTEN reports the loss, reconnects, resyncs, and hears notifications again', async () => {
    const heard: string[] = [];
    let lost = 0;
    let resyncs = 0;
    const unlisten = await database.listen(
      'outage_test',
      (p) => heard.push(p),
      () => resyncs++,
      () => lost++,
    );
    const db = database.db as NodePgDatabase<Schema>;
    const listener = async () =>
      (
        await db.execute<{ pid: number }>(
          sql`select pid from pg_stat_activity where datname = current_database() and query ilike 'LISTEN%'`,
        )
      ).rows.map((r) => r.pid);
    const [pid] = await listener();
    expect(pid).toBeDefined();
    await terminate(pid!);
    await until('loss reported', () => lost === 1);
    await until('resync after reconnect', () => resyncs === 1);
    await db.execute(sql`select pg_notify('outage_test', 'after')`);
    await until('notification after the reconnect', () => heard.includes('after'));
    await unlisten();
    expect(lost).toBe(1);
  });

  it('an unreachable server fails each store call as db_unavailable, quickly and without killing the process', async () => {
    const unreachable = await openDatabase({ url: `postgres://postgres@127.0.0.1:${await freePort()}/nothing` });
    try {
      const store = createDrizzleStore(unreachable);
      await expect(store.profiles.list()).rejects.toMatchObject({ code: 'db_unavailable', retryable: true });
      await expect(
        store.audit.append({
          actor: 'test',
          action: 'x',
          objectType: 'profile',
          objectId: null,
          objectName: null,
          result: 'ok',
          detail: {},
        }),
      ).rejects.toMatchObject({ code: 'db_unavailable' });
      await expect(
        unreachable.listen(
          'x',
          () => {},
          () => {},
        ),
      ).rejects.toSatisfy(isConnectionLoss);
    } finally {
      await unreachable.close();
      // Closing twice (several closers share one database) is harmless.
      await unreachable.close();
    }
  });
});
