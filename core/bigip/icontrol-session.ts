/**
 * The authenticated session over a {@link Transport}: token login (`POST /mgmt/shared/authn/login`), renewal
 * shortly before the token expires, one re-login and retry when a tokened request gets 401, concurrent calls
 * sharing one in-flight login, and f5-ansible's Basic-auth fallback when token login is refused
 * (`reference/bigip-icontrol.md` §1). Every failure leaves here as a classified {@link BigIpError}.
 */
import type { Clock } from '../ports/clock.ts';
import type { BigIpConnection, BigIpError } from '../ports/bigip-client.ts';
import {
  type BigIpRequestContext,
  makeRedactor,
  networkError,
  recode,
  requestLabel,
  responseError,
  unexpectedAnswer,
} from './bigip-error.ts';
import type { Transport, WireRequest } from './icontrol-transport.ts';

/** Renew this long before the token's expiry (f5-icontrol-rest), or at half its lifetime when that is shorter. */
export const TOKEN_RENEW_MARGIN_MS = 60_000;
/** Used when the login answer states no lifetime at all (TMOS default). */
export const DEFAULT_TOKEN_LIFETIME_MS = 1_200_000;
/** Longest lifetime believed, whatever the device says (the documented maximum is 36000 s). */
const MAX_TOKEN_LIFETIME_MS = 36_000_000;

const LOGIN_PATH = '/mgmt/shared/authn/login';
const BASIC_PROBE_PATH = '/mgmt/tm/sys';

export interface Call {
  method: WireRequest['method'];
  path: string;
  /** What is being done, for messages: `install key /Common/www.key`. */
  action: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (uploads), with these extra headers. */
  raw?: Buffer | undefined;
  headers?: Record<string, string> | undefined;
  cap?: number | undefined;
  /** False when an error body may echo what was sent (uploads). */
  quoteBody?: boolean | undefined;
  /** Extra values to keep out of messages (a key passphrase). */
  secrets?: string[] | undefined;
}

export interface Answer {
  status: number;
  /** Parsed JSON body; null for an empty body. */
  json: unknown;
}

export interface Session {
  call(call: Call): Promise<Answer>;
  /** A 2xx answer the caller cannot use, as a classified error. */
  unexpected(call: Pick<Call, 'method' | 'path' | 'action'>, status: number, why: string): BigIpError;
  /** Which authentication the session uses now; null before the first call. */
  mode(): 'token' | 'basic' | null;
  close(): Promise<void>;
}

type Auth = { kind: 'token'; token: string; renewAt: number } | { kind: 'basic' };

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return null;
}

/**
 * How long a token from a login answer lives, measured on the device's own clock so that clock skew between
 * here and the device does not matter: `expirationMicros` minus the issue time (`lastUpdateMicros`, else
 * `startTime`), else `timeout` seconds, else `expirationMicros` against the local clock, else the default.
 */
export function tokenLifetimeMs(token: Record<string, unknown>, localNowMs: number): number {
  const expiration = num(token['expirationMicros']);
  const updated = num(token['lastUpdateMicros']);
  const start = typeof token['startTime'] === 'string' ? Date.parse(token['startTime']) : Number.NaN;
  const issuedMs = updated !== null && updated > 0 ? updated / 1000 : Number.isFinite(start) ? start : null;
  const timeout = num(token['timeout']);
  let lifetime: number;
  if (expiration !== null && issuedMs !== null) lifetime = expiration / 1000 - issuedMs;
  else if (timeout !== null) lifetime = timeout * 1000;
  else if (expiration !== null) lifetime = expiration / 1000 - localNowMs;
  else lifetime = DEFAULT_TOKEN_LIFETIME_MS;
  return Math.min(Math.max(lifetime, 0), MAX_TOKEN_LIFETIME_MS);
}

/** When to log in again for a token of `lifetimeMs` obtained by a login sent at `sentAtMs`. */
export function tokenRenewAt(sentAtMs: number, lifetimeMs: number): number {
  return sentAtMs + lifetimeMs - Math.min(TOKEN_RENEW_MARGIN_MS, lifetimeMs / 2);
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function createSession(
  transport: Transport,
  conn: Pick<BigIpConnection, 'username' | 'password'>,
  clock: Pick<Clock, 'now'>,
): Session {
  const basic = basicHeader(conn.username, conn.password);
  /** Every token this session was given, so none can reach a message even after it was replaced. */
  const tokens = new Set<string>();
  let auth: Auth | null = null;
  let pending: Promise<Auth> | null = null;

  const baseSecrets = [conn.password, basic, basic.slice('Basic '.length)];
  const redactWith = (extra: string[] | undefined) => makeRedactor(() => [...baseSecrets, ...tokens, ...(extra ?? [])]);
  const redact = redactWith(undefined);

  function context(method: string, path: string, action: string, call?: Call): BigIpRequestContext {
    return {
      action,
      host: transport.host,
      request: requestLabel(method, path),
      redact: call?.secrets === undefined ? redact : redactWith(call.secrets),
      timeoutMs: transport.timeoutMs,
      ...(call?.quoteBody === undefined ? {} : { quoteBody: call.quoteBody }),
    };
  }

  function wire(call: Call, authHeaders: Record<string, string>): WireRequest {
    const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders, ...call.headers };
    let body: Buffer | undefined;
    if (call.raw !== undefined) body = call.raw;
    else if (call.json !== undefined) {
      body = Buffer.from(JSON.stringify(call.json), 'utf8');
      headers['Content-Type'] = 'application/json';
    }
    return { method: call.method, path: call.path, headers, body, cap: call.cap };
  }

  function authHeaders(a: Auth): Record<string, string> {
    return a.kind === 'token' ? { 'X-F5-Auth-Token': a.token } : { Authorization: basic };
  }

  function parse(ctx: BigIpRequestContext, status: number, body: Buffer, truncated: boolean): unknown {
    if (truncated) throw unexpectedAnswer(ctx, status, `the answer is larger than ${body.length} bytes`);
    if (body.length === 0) return null;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw unexpectedAnswer(ctx, status, 'the answer is not JSON');
    }
  }

  async function tokenLogin(): Promise<Auth> {
    const call: Call = {
      method: 'POST',
      path: LOGIN_PATH,
      action: `log in as ${JSON.stringify(conn.username)}`,
      json: { username: conn.username, password: conn.password, loginProviderName: 'tmos' },
    };
    const ctx = context('POST', LOGIN_PATH, call.action);
    const sentAt = clock.now().getTime();
    const out = await transport.send(wire(call, {}));
    if ('error' in out) throw networkError(ctx, out.error);

    let refused: BigIpError;
    if (out.status >= 200 && out.status < 300) {
      const json = parse(ctx, out.status, out.body, out.truncated);
      const token = (json as { token?: unknown } | null)?.token;
      const value = (token as { token?: unknown } | null | undefined)?.token;
      if (typeof value === 'string' && /^[\x21-\x7e]+$/.test(value)) {
        tokens.add(value);
        const lifetime = tokenLifetimeMs(token as Record<string, unknown>, sentAt);
        return { kind: 'token', token: value, renewAt: tokenRenewAt(sentAt, lifetime) };
      }
      refused = unexpectedAnswer(ctx, out.status, 'the login answer has no token');
    } else {
      refused = responseError(ctx, out.status, out.body, out.truncated);
      // A device that is restarting refuses everything for a while; Basic auth would not help.
      if (refused.code === 'bigip_busy') throw refused;
    }

    // f5-ansible: when token login fails, Basic auth may still work (e.g. a device without the token provider).
    const probeCtx = context('GET', BASIC_PROBE_PATH, `log in as ${JSON.stringify(conn.username)} with Basic auth`);
    const probe = await transport.send(
      wire({ method: 'GET', path: BASIC_PROBE_PATH, action: probeCtx.action }, { Authorization: basic }),
    );
    if ('error' in probe) throw networkError(probeCtx, probe.error);
    if (probe.status === 200) return { kind: 'basic' };
    throw refused.code === 'bigip_auth' ? refused : recode(refused, 'bigip_auth');
  }

  /** The authentication to use now, logging in (once, shared by concurrent callers) when needed. */
  function current(): Promise<Auth> {
    if (auth !== null && (auth.kind === 'basic' || clock.now().getTime() < auth.renewAt)) return Promise.resolve(auth);
    if (pending === null) {
      pending = tokenLogin().then(
        (a) => {
          auth = a;
          pending = null;
          return a;
        },
        (err: unknown) => {
          pending = null;
          throw err;
        },
      );
    }
    return pending;
  }

  async function call(c: Call): Promise<Answer> {
    const ctx = context(c.method, c.path, c.action, c);
    let used = await current();
    let out = await transport.send(wire(c, authHeaders(used)));
    if (!('error' in out) && out.status === 401 && used.kind === 'token') {
      // Expired or revoked: log in again (unless a concurrent call already did) and retry this request once.
      if (auth === used) auth = null;
      used = await current();
      out = await transport.send(wire(c, authHeaders(used)));
    }
    if ('error' in out) throw networkError(ctx, out.error);
    if (out.status < 200 || out.status >= 300) throw responseError(ctx, out.status, out.body, out.truncated);
    return { status: out.status, json: parse(ctx, out.status, out.body, out.truncated) };
  }

  async function close(): Promise<void> {
    try {
      if (pending !== null) await pending.catch(() => undefined);
      const a = auth;
      auth = null;
      if (a?.kind === 'token') {
        const path = `/mgmt/shared/authz/tokens/${encodeURIComponent(a.token)}`;
        await transport.send(wire({ method: 'DELETE', path, action: 'log out' }, authHeaders(a)));
      }
    } catch {
      // Logging out is a courtesy: the token expires on its own.
    } finally {
      transport.destroy();
    }
  }

  return {
    call,
    close,
    unexpected: (c, status, why) => unexpectedAnswer(context(c.method, c.path, c.action), status, redact(why)),
    mode: () => auth?.kind ?? null,
  };
}
