import { CoreError, isCoreError } from '../core/errors.ts';

/**
 * Telling "the database is not there right now" apart from "the database said no". The first is an outage
 * (a restart, a failover, a killed backend, a network cut): nothing about the request was wrong and the same
 * request will work once the database is back, so every edge says so and every job waits for its next run.
 * The second (a constraint, a syntax error, bad credentials) is a real error and stays one.
 */

/**
 * SQLSTATEs of a connection the server ended or refused: 57P01 admin_shutdown (pg_terminate_backend, a
 * fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery), and class 08
 * (connection exception).
 */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03']);

/** Socket errors of a server that is down, restarting or unreachable. */
const LOST_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * What node-postgres says when the socket went away (it has no code for these): "Connection terminated
 * unexpectedly", "Connection terminated due to connection timeout", "Client has encountered a connection
 * error and is not queryable", and pg-pool's "timeout exceeded when trying to connect".
 */
const LOST_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error/,
  /^timeout exceeded when trying to connect/,
];

/** Whether `err` (or any error it wraps: drizzle and our own adapters keep the driver's error as `cause`) is a lost or refused connection. */
export function isConnectionLoss(err: unknown): boolean {
  for (
    let e: unknown = err, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (isCoreError(e) && e.code === 'db_unavailable') return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isConnectionLoss(inner))) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (LOST_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || LOST_ERRNOS.has(code)))
      return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && LOST_MESSAGES.some((m) => m.test(message))) return true;
  }
  return false;
}

/**
 * The one message every edge shows for an outage. It is shown to Slack users and CLI users alike, so it
 * names no host; the driver's reason goes to `detail` and the log.
 */
export const DB_UNAVAILABLE_MESSAGE = 'The database is unavailable right now; nothing changed. Try again in a minute.';

/** A connection-loss error as the core sees it: `db_unavailable`, retryable, the driver's reason in `detail`. */
export function databaseUnavailable(err: unknown): CoreError {
  if (isCoreError(err) && err.code === 'db_unavailable') return err;
  return new CoreError('db_unavailable', DB_UNAVAILABLE_MESSAGE, {
    retryable: true,
    cause: err,
    detail: { reason: reasonOf(err) },
  });
}

/** The driver's own words for the innermost cause (an errno or SQLSTATE and its message), for logs and the CLI. */
export function reasonOf(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  // Node reports a refused connection to a name with several addresses as an AggregateError with no message.
  if (e instanceof AggregateError && !e.message && e.errors.length > 0) e = e.errors[0];
  const code = (e as { code?: unknown } | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code !== 'string') return message;
  return message.includes(code) ? message : `${code}${message ? ` ${message}` : ''}`;
}

/** `err` translated for the core: a connection loss becomes `db_unavailable`, anything else is left as it is. */
export function translateConnectionLoss(err: unknown): unknown {
  return isConnectionLoss(err) ? databaseUnavailable(err) : err;
}

/**
 * Wraps every method of every repository of a store so a lost connection reaches callers as one
 * `db_unavailable` CoreError, whichever query hit it (one place, instead of a try/catch per query).
 */
export function guardConnectionLoss<T extends object>(store: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(store)) {
    if (typeof part === 'function') {
      guarded[name] = guardFunction(part as (...args: unknown[]) => unknown, store);
    } else if (part && typeof part === 'object') {
      guarded[name] = Object.fromEntries(
        Object.entries(part).map(([k, v]) => [
          k,
          typeof v === 'function' ? guardFunction(v as (...args: unknown[]) => unknown, part) : v,
        ]),
      );
    } else {
      guarded[name] = part;
    }
  }
  return guarded as T;
}

function guardFunction(fn: (...args: unknown[]) => unknown, self: unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (err) {
      throw translateConnectionLoss(err);
    }
    return result instanceof Promise
      ? result.catch((err: unknown) => Promise.reject(translateConnectionLoss(err)))
      : result;
  };
}
