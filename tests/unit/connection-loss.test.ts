import { describe, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import {
  DB_UNAVAILABLE_MESSAGE,
  guardConnectionLoss,
  isConnectionLoss,
  reasonOf,
  translateConnectionLoss,
} from '../../db/connection-loss.ts';

/** Shapes as node-postgres and node:net produce them. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });
const sysError = (code: string, message: string) =>
  Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });

describe('isConnectionLoss: an outage, not an answer', () => {
  it.each([
    ['pg_terminate_backend (57P01)', pgError('57P01', 'terminating connection due to administrator command'), true],
    [
      'crash shutdown (57P02)',
      pgError('57P02', 'terminating connection because of crash of another server process'),
      true,
    ],
    ['starting up (57P03)', pgError('57P03', 'the database system is starting up'), true],
    ['connection exception class 08 (08006)', pgError('08006', 'connection failure'), true],
    ['connection does not exist (08003)', pgError('08003', 'connection does not exist'), true],
    ['refused', sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), true],
    ['reset', sysError('ECONNRESET', 'read ECONNRESET'), true],
    ['host unreachable', sysError('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.9:5432'), true],
    ['socket ended', new Error('Connection terminated unexpectedly'), true],
    ['connect timeout', new Error('Connection terminated due to connection timeout'), true],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect'), true],
    ['dead client reused', new Error('Client has encountered a connection error and is not queryable'), true],
    [
      'wrapped by drizzle (cause)',
      Object.assign(new Error('Failed query: select 1'), {
        cause: pgError('57P01', 'terminating connection due to administrator command'),
      }),
      true,
    ],
    [
      'wrapped by the store as db_error',
      new CoreError('db_error', 'database error while saving x', {
        cause: sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      }),
      true,
    ],
    [
      'several addresses refused (AggregateError)',
      new AggregateError([sysError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')], ''),
      true,
    ],
    ['unique violation', pgError('23505', 'duplicate key value violates unique constraint'), false],
    ['syntax error', pgError('42601', 'syntax error at or near "selec"'), false],
    ['bad password', pgError('28P01', 'password authentication failed for user "x"'), false],
    ['missing table', pgError('42P01', 'relation "profiles" does not exist'), false],
    ['a core refusal', new CoreError('not_found', 'profile "x" not found'), false],
    ['not an error', 'Connection terminated', false],
  ])('%s → %s', (_name, err, lost) => {
    expect(isConnectionLoss(err)).toBe(lost);
  });
});

describe('translateConnectionLoss', () => {
  it('turns a lost connection into one retryable db_unavailable with the driver reason in detail only', () => {
    const err = translateConnectionLoss(sysError('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432')) as CoreError;
    expect(err).toBeInstanceOf(CoreError);
    expect(err.code).toBe('db_unavailable');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(DB_UNAVAILABLE_MESSAGE);
    expect(err.message).not.toContain('10.1.2.3');
    expect(err.detail).toEqual({ reason: 'connect ECONNREFUSED 10.1.2.3:5432' });
  });

  it('leaves every other error as it was', () => {
    const conflict = new CoreError('conflict', 'profile "x" already exists');
    expect(translateConnectionLoss(conflict)).toBe(conflict);
  });

  it.each([
    [
      pgError('57P01', 'terminating connection due to administrator command'),
      '57P01 terminating connection due to administrator command',
    ],
    [sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'connect ECONNREFUSED 127.0.0.1:5432'],
    [
      new AggregateError([sysError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')], ''),
      'connect ECONNREFUSED ::1:5432',
    ],
    [new Error('Connection terminated unexpectedly'), 'Connection terminated unexpectedly'],
  ])('reasonOf(%s) → %j', (err, reason) => {
    expect(reasonOf(err)).toBe(reason);
  });
});

describe('guardConnectionLoss: one wrapper over every repository method', () => {
  const store = {
    profiles: {
      list: async () => {
        throw pgError('57P01', 'terminating connection due to administrator command');
      },
      insert: async () => {
        throw pgError('23505', 'duplicate key');
      },
      findByName: async (name: string) => ({ name }),
    },
    close: async () => undefined,
  };
  const guarded = guardConnectionLoss(store);

  it('maps a lost connection, passes other errors and results through', async () => {
    await expect(guarded.profiles.list()).rejects.toMatchObject({ code: 'db_unavailable', retryable: true });
    await expect(guarded.profiles.insert()).rejects.toMatchObject({ code: '23505' });
    await expect(guarded.profiles.findByName('p')).resolves.toEqual({ name: 'p' });
    await expect(guarded.close()).resolves.toBeUndefined();
  });
});
