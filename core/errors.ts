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
  /** A DNS server refused an RFC 2136 update (NOTAUTH, REFUSED, NOTZONE, a TSIG error): fix the settings. */
  | 'dns_update_refused'
  /** An update failed on the server's side (SERVFAIL, no answer in time): retryable. */
  | 'dns_update_failed'
  /** An acme-dns server refused or failed a request. */
  | 'acme_dns_error'
  /** `_acme-challenge.<name>` is not delegated (CNAME) where the domain's DNS method needs it. */
  | 'dns_delegation_missing'
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

/**
 * What the person can do next, without any edge's syntax: the CLI says a command as `bigip-acme …`, Slack as
 * `/acme …`, or leaves the hint out when it has no such command. Never a secret.
 */
export type Hint =
  /** Run a command: `command` holds its words after the program's name; `say` leads into it ("see"). */
  | { action: 'run-command'; command: readonly string[]; say: string; aside?: boolean }
  /** Ask again with an option that only some edges offer (`skip-test`), for `purpose`. */
  | { action: 'use-option'; option: string; purpose: string };

/** How one edge writes a hint's parts; null where it has nothing of the kind (the hint is then left out). */
export interface HintWords {
  command(words: readonly string[]): string | null;
  option(name: string): string | null;
}

export class CoreError extends Error {
  override readonly name = 'CoreError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Structured, secret-free facts for machines (e.g. the CA's problem document). */
  readonly detail: Record<string, unknown> | undefined;
  /** What to do next; `message` stays plain text, each edge adds the hint in its own words. */
  readonly hint: Hint | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; detail?: Record<string, unknown>; hint?: Hint } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.detail = opts.detail;
    this.hint = opts.hint;
  }
}

/** A hint to run a command, said after the message: `…; <say>: <command>`, or `… (<say>: <command>)` as an aside. */
export function runCommand(say: string, command: readonly string[], opts: { aside?: boolean } = {}): Hint {
  return { action: 'run-command', command, say, ...(opts.aside ? { aside: true } : {}) };
}

/** The common "(see: <list command>)" hint of a lookup that found nothing. */
export const seeList = (area: string): Hint => runCommand('see', [area, 'list'], { aside: true });

/** The message with its hint in one edge's words; the message alone when the edge cannot say the hint. */
export function messageWithHint(err: CoreError, words: HintWords): string {
  const hint = err.hint;
  if (!hint) return err.message;
  if (hint.action === 'use-option') {
    const option = words.option(hint.option);
    return option ? `${err.message} (use ${option} ${hint.purpose})` : err.message;
  }
  const command = words.command(hint.command);
  if (!command) return err.message;
  return hint.aside ? `${err.message} (${hint.say}: ${command})` : `${err.message}; ${hint.say}: ${command}`;
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

/**
 * A command named inside a core text that is not an error (a progress line, a status summary, a stored
 * check detail): marked, so each edge says it in its own words (`sayCommands`) — the CLI as
 * `bigip-acme …`, Slack as `/acme …`, a button, or plainly as something only an operator can do.
 */
export function mentionCommand(words: readonly string[]): string {
  return `${MENTION_OPEN}${words.join(' ')}${MENTION_CLOSE}`;
}

const MENTION_OPEN = '⟦';
const MENTION_CLOSE = '⟧';
const MENTION = /⟦([^⟦⟧]*)⟧/g;

/** `text` with every `mentionCommand` in one edge's words; a command the edge cannot say is left as its words. */
export function sayCommands(text: string, words: HintWords): string {
  if (!text.includes(MENTION_OPEN)) return text;
  return text.replace(MENTION, (_, inner: string) => {
    const command = inner.split(' ').filter((w) => w !== '');
    return words.command(command) ?? command.join(' ');
  });
}
