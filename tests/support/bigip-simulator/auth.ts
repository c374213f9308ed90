/**
 * Authentication (`reference/bigip-icontrol.md` §1): token login, token extend (PATCH) and logout (DELETE),
 * `X-F5-Auth-Token` and Basic checks, and the exact 401 bodies of §1.5. Bad Basic credentials get Apache's
 * HTML 401 page, as the reference says clients must tolerate.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ok, type RouteDef, type SimCore } from './context.ts';
import { SimError, sharedError } from './errors.ts';

/** Longest token timeout accepted by PATCH (commonly stated; unconfirmed). */
export const MAX_TOKEN_TIMEOUT_SECONDS = 36_000;

export interface TokenRecord {
  token: string;
  userName: string;
  userId: string;
  timeout: number;
  startTime: string;
  lastUpdateMicros: number;
  expirationMicros: number;
  generation: number;
  address: string;
  /** Set by `expireTokens()`. */
  expired: boolean;
}

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function newToken(): string {
  return [...randomBytes(26)].map((b) => TOKEN_ALPHABET[b & 31]).join('');
}

const APACHE_401 = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>401 F5 Authorization Required</title>
</head><body>
<h1>F5 Authorization Required</h1>
<p>This server could not verify that you
are authorized to access the document
requested.  Either you supplied the wrong
credentials (e.g., bad password), or your
browser doesn't understand how to supply
the credentials required.</p>
</body></html>
`;

export class TokenStore {
  readonly tokens = new Map<string, TokenRecord>();
  private readonly userId = randomUUID();

  constructor(private readonly core: SimCore) {}

  private nowMicros(): number {
    return this.core.now().getTime() * 1000;
  }

  issue(address: string): TokenRecord {
    const now = this.nowMicros();
    const timeout = this.core.config.tokenTimeoutSeconds;
    const record: TokenRecord = {
      token: newToken(),
      userName: this.core.config.username,
      userId: this.userId,
      timeout,
      startTime: new Date(now / 1000).toISOString(),
      lastUpdateMicros: now,
      expirationMicros: now + Math.round(timeout * 1_000_000),
      generation: 1,
      address,
      expired: false,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  expireAll(): void {
    for (const record of this.tokens.values()) record.expired = true;
  }

  isLive(record: TokenRecord): boolean {
    return !record.expired && this.nowMicros() < record.expirationMicros;
  }

  extend(record: TokenRecord, timeout: number): void {
    const now = this.nowMicros();
    record.timeout = timeout;
    record.lastUpdateMicros = now;
    record.expirationMicros = now + Math.round(timeout * 1_000_000);
    record.generation += 1;
  }

  view(record: TokenRecord): Record<string, unknown> {
    return {
      token: record.token,
      name: record.token,
      userName: record.userName,
      authProviderName: 'tmos',
      user: { link: `https://localhost/mgmt/shared/authz/users/${record.userId}` },
      timeout: record.timeout,
      startTime: record.startTime,
      address: record.address,
      partition: '[All]',
      generation: record.generation,
      lastUpdateMicros: record.lastUpdateMicros,
      expirationMicros: record.expirationMicros,
      kind: 'shared:authz:tokens:authtokenitemstate',
      selfLink: `https://localhost/mgmt/shared/authz/tokens/${record.token}`,
    };
  }
}

export interface AuthResult {
  kind: 'token' | 'basic';
  token: string | null;
}

/** Checks the request's credentials; throws the 401 the device would answer. */
export function authenticate(
  core: SimCore,
  tokens: TokenStore,
  headers: IncomingHttpHeaders,
  pathname: string,
  address: string,
): AuthResult {
  const tokenHeader = headers['x-f5-auth-token'];
  if (typeof tokenHeader === 'string' && tokenHeader !== '') {
    const record = tokens.tokens.get(tokenHeader);
    if (!record) throw sharedError(401, 'X-F5-Auth-Token does not exist.');
    if (!tokens.isLive(record)) throw sharedError(401, 'X-F5-Auth-Token has expired.');
    return { kind: 'token', token: record.token };
  }
  const authorization = headers.authorization;
  if (core.config.basicAuth && typeof authorization === 'string' && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (user === core.config.username && password === core.config.password) return { kind: 'basic', token: null };
    throw new SimError(401, 'F5 Authorization Required', {
      html: APACHE_401,
      headers: { 'WWW-Authenticate': 'Basic realm="Enterprise Manager"' },
    });
  }
  throw sharedError(
    401,
    `Authorization failed: no user authentication header or token detected. Uri:http://localhost:8100${pathname} Referrer:${address} Sender:${address}`,
  );
}

function loginFailed(body: Record<string, unknown>): SimError {
  const { password: _password, ...rest } = body;
  const original = { ...rest, generation: 0, lastUpdateMicros: 0 };
  return sharedError(401, 'Authentication failed.', { originalRequestBody: JSON.stringify(original) });
}

function tokenParam(tokens: TokenStore, raw: string): TokenRecord {
  const record = tokens.tokens.get(raw);
  if (!record) throw sharedError(404, `Token ${raw} does not exist.`);
  return record;
}

export function authRoutes(core: SimCore, tokens: TokenStore): RouteDef[] {
  return [
    {
      pattern: /^\/mgmt\/shared\/authn\/login$/,
      area: 'shared',
      methods: {
        POST: {
          step: 'login',
          handle: (ctx) => {
            const { body } = ctx;
            if (!core.config.tokenAuth) throw loginFailed(body);
            const provider = body['loginProviderName'];
            const providerOk = provider === undefined || provider === 'tmos';
            if (!providerOk || body['username'] !== core.config.username || body['password'] !== core.config.password) {
              throw loginFailed(body);
            }
            const record = tokens.issue(ctx.client.address);
            return ok({
              username: record.userName,
              loginReference: { link: `https://localhost/mgmt/cm/system/authn/providers/tmos/${record.userId}/login` },
              loginProviderName: 'tmos',
              token: tokens.view(record),
              generation: 0,
              lastUpdateMicros: 0,
            });
          },
        },
      },
    },
    {
      pattern: /^\/mgmt\/shared\/authz\/tokens\/([^/]+)$/,
      area: 'shared',
      methods: {
        GET: { step: null, handle: (ctx) => ok(tokens.view(tokenParam(tokens, ctx.params[0]!))) },
        PATCH: {
          step: 'token-extend',
          handle: (ctx) => {
            const record = tokenParam(tokens, ctx.params[0]!);
            const raw = ctx.body['timeout'];
            const timeout = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
            if (
              typeof timeout !== 'number' ||
              !Number.isFinite(timeout) ||
              timeout <= 0 ||
              timeout > MAX_TOKEN_TIMEOUT_SECONDS
            ) {
              throw sharedError(
                400,
                `Invalid timeout value ${JSON.stringify(raw)}: must be between 1 and ${MAX_TOKEN_TIMEOUT_SECONDS} seconds.`,
              );
            }
            tokens.extend(record, timeout);
            return ok(tokens.view(record));
          },
        },
        DELETE: {
          step: 'logout',
          handle: (ctx) => {
            const record = tokenParam(tokens, ctx.params[0]!);
            tokens.tokens.delete(record.token);
            return ok(tokens.view(record));
          },
        },
      },
    },
  ];
}
