/**
 * The one error type that crosses core boundaries. Adapters translate library and network failures into a
 * CoreError with a stable `code` (prefixed by area) and whether trying again later can help; edges map codes
 * to output. `message` is for people and must never contain a secret.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'input_invalid'
  | 'not_found'
  | 'conflict'
  /** Who asked may not do this (not an approver, or deciding their own request); nothing changed. */
  | 'forbidden'
  | 'locked_field'
  | 'tos_not_accepted'
  | 'key_mismatch'
  | 'domain_invalid'
  | 'domain_foreign'
  | 'acme_unreachable'
  | 'acme_error'
  | 'acme_rate_limited'
  | 'acme_bad_nonce'
  | 'acme_order_invalid'
  | 'acme_challenge_invalid'
  | 'acme_timeout'
  | 'challenge_unreachable'
  | 'secret_invalid'
  | 'db_error'
  /** The database is unreachable (restarting, failing over, connection killed): retryable, nothing changed. */
  | 'db_unavailable'
  | BigIpErrorCode
  | 'deploy_failed'
  | 'internal';

/**
 * BIG-IP failures. What failed, for a person: `bigip_dns`, `bigip_tcp`, `bigip_tls` (could not reach the
 * management interface at that layer), `bigip_auth` (credentials refused), then the API's answers.
 */
export type BigIpErrorCode =
  | 'bigip_dns'
  | 'bigip_tcp'
  | 'bigip_tls'
  | 'bigip_timeout'
  | 'bigip_auth'
  | 'bigip_not_found'
  | 'bigip_conflict'
  | 'bigip_in_use'
  | 'bigip_key_mismatch'
  | 'bigip_transaction_failed'
  | 'bigip_busy'
  | 'bigip_api';

export class CoreError extends Error {
  override readonly name = 'CoreError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Structured, secret-free facts for machines (e.g. the CA's problem document). */
  readonly detail: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; detail?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.detail = opts.detail;
  }
}

export function isCoreError(err: unknown): err is CoreError {
  return err instanceof CoreError;
}

/**
 * Whether the database was unreachable. Per-item failure handling in jobs rethrows it: an outage is not the
 * item's fault, must not count against its retries, and ends the run (the next run resumes).
 */
export function isDatabaseUnavailable(err: unknown): err is CoreError & { code: 'db_unavailable' } {
  return err instanceof CoreError && err.code === 'db_unavailable';
}

/** Wraps anything thrown into a CoreError, keeping CoreErrors as they are. */
export function asCoreError(err: unknown): CoreError {
  if (err instanceof CoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CoreError('internal', message, { cause: err });
}
