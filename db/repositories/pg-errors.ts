import { CoreError } from '../../core/errors.ts';

/** The SQLSTATE of a driver error; pg puts it on the error, drizzle on its `cause`. */
function sqlStateOf(err: unknown): string | undefined {
  return (
    (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code
  );
}

/** PostgreSQL unique_violation, raised identically by pg and PGlite. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlStateOf(err) === '23505';
}

/** PostgreSQL foreign_key_violation or restrict_violation (ON DELETE RESTRICT): a row still referenced elsewhere. */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = sqlStateOf(err);
  return code === '23503' || code === '23001';
}

/** A failed insert as the core sees it: a duplicate is a `conflict`, anything else a retryable `db_error`. */
export function conflictOr(err: unknown, what: string): never {
  if (isUniqueViolation(err)) throw new CoreError('conflict', `${what} already exists`);
  throw new CoreError('db_error', `database error while saving ${what}`, { cause: err, retryable: true });
}

/** The one row an update or delete by id returned; none means the id does not exist. */
export function oneOrNotFound<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) throw new CoreError('not_found', `${what} not found`);
  return row;
}
