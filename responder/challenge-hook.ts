import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../core/errors.ts';
import { isCoreError, isDatabaseUnavailable } from '../core/errors.ts';
import { type ChallengeHookService, hookDomain, hookRefusalStatus } from '../core/challenges/challenge-hook-service.ts';

export const CHALLENGE_HOOK_PREFIX = '/challenge-hook';
export const CHALLENGE_HOOK_REALM = 'bigip-acme challenge-hook';
/** Three PEM blocks of at most 16 KiB each fit ten times over; anything larger is not a challenge payload. */
export const CHALLENGE_HOOK_BODY_LIMIT = 64 * 1024;

const ALLOW = 'GET, HEAD, POST, DELETE';
const NO_STORE = { 'cache-control': 'no-store' } as const;
const UNAUTHORIZED_HEADERS = { ...NO_STORE, 'www-authenticate': `Basic realm="${CHALLENGE_HOOK_REALM}"` } as const;

type WireErrorCode = ErrorCode | 'unauthorized' | 'method_not_allowed' | 'payload_too_large' | 'unsupported_media_type';
type HookEnv = { Variables: { domain: string } };

function problem(
  c: Context,
  status: ContentfulStatusCode,
  code: WireErrorCode,
  message: string,
  headers: Record<string, string> = NO_STORE,
): Response {
  return c.json({ error: { code, message } }, status, headers);
}

function unauthorized(c: Context): Response {
  return problem(c, 401, 'unauthorized', 'authentication required', UNAUTHORIZED_HEADERS);
}

/** `Authorization: Basic <base64(user:password)>` (RFC 7617), strictly; null for anything else. */
function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? '');
  if (!match) return null;
  const bytes = Buffer.from(match[1]!, 'base64');
  // Non-canonical base64 (stray bits, bad padding) is malformed, not a near miss.
  if (bytes.toString('base64').replace(/=+$/, '') !== match[1]!.replace(/=+$/, '')) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  // RFC 8259 §8.1: JSON between systems is UTF-8; any other declared charset is not what we parse.
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
}

/**
 * `POST|GET|DELETE /challenge-hook/{domain}` (DESIGN.md §5): web servers and automation publish, read back
 * and clear a domain's challenges in the seed's wire format, authenticated with the domain's endpoint
 * credentials (HTTP Basic). Every answer is JSON and uncached; errors are `{error:{code,message}}` without any
 * secret; bad input is never a 5xx.
 */
export function registerChallengeHook(app: Hono, service: ChallengeHookService): void {
  service.warmUp();
  const hook = new Hono<HookEnv>();

  // Registered on the sub-app, so it wraps only these routes and answers in JSON like the rest of the hook.
  // An outage is not the caller's fault nor ours to hide: 503 with Retry-After, so automation tries again.
  hook.onError((err, c) => {
    if (isDatabaseUnavailable(err)) {
      return problem(c, 503, 'db_unavailable', err.message, { ...NO_STORE, 'retry-after': '60' });
    }
    const status = hookRefusalStatus(err);
    return status !== 500 && isCoreError(err)
      ? problem(c, status as ContentfulStatusCode, err.code, err.message)
      : problem(c, 500, 'internal', 'internal error');
  });

  hook.use('/:domain', async (c, next) => {
    if (!['GET', 'HEAD', 'POST', 'DELETE'].includes(c.req.method)) {
      return problem(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${ALLOW}`, {
        ...NO_STORE,
        allow: ALLOW,
      });
    }
    let domain: string;
    try {
      domain = hookDomain(c.req.param('domain'));
    } catch (err) {
      return problem(c, 400, 'domain_invalid', isCoreError(err) ? err.message : 'not a valid domain name');
    }
    const credentials = parseBasicAuth(c.req.header('authorization'));
    if (!credentials || !(await service.authenticate(domain, credentials.username, credentials.password))) {
      return unauthorized(c);
    }
    c.set('domain', domain);
    await next();
  });

  hook.post(
    '/:domain',
    bodyLimit({
      maxSize: CHALLENGE_HOOK_BODY_LIMIT,
      onError: (c) => problem(c, 413, 'payload_too_large', `body: larger than ${CHALLENGE_HOOK_BODY_LIMIT} bytes`),
    }),
    async (c) => {
      if (!isJsonContentType(c.req.header('content-type'))) {
        return problem(c, 415, 'unsupported_media_type', 'Content-Type must be application/json');
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      // bodyLimit trusts Content-Length; this also holds when it lies.
      if (bytes.byteLength > CHALLENGE_HOOK_BODY_LIMIT) {
        return problem(c, 413, 'payload_too_large', `body: larger than ${CHALLENGE_HOOK_BODY_LIMIT} bytes`);
      }
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        return problem(c, 400, 'input_invalid', 'body: not valid JSON');
      }
      const stored = await service.publish(c.get('domain'), body);
      return c.json({ stored }, 201, NO_STORE);
    },
  );

  hook.get('/:domain', async (c) => c.json({ challenges: await service.list(c.get('domain')) }, 200, NO_STORE));

  hook.delete('/:domain', async (c) => c.json({ cleared: await service.clear(c.get('domain')) }, 200, NO_STORE));

  app.route(CHALLENGE_HOOK_PREFIX, hook);
}
