import { createHash, createPrivateKey, randomBytes, timingSafeEqual } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { certificateMatchesKey } from '../core/domain/certificate-facts.ts';
import { splitPemChain } from '../core/domain/x509.ts';
import type { ChallengeEntry } from '../core/domain/challenge-payload.ts';
import { parseChallengePayload } from '../core/domain/challenge-payload.ts';
import { normalizeDomainName } from '../core/domain/domain-name.ts';
import { type CoreTlsAlpnChallenge, hookTlsAlpnShadowed } from '../core/domain/tls-alpn-source.ts';
import type { ErrorCode } from '../core/errors.ts';
import { isCoreError, isDatabaseUnavailable } from '../core/errors.ts';
import type { HookChallenge, HookChallengeRepository } from '../core/ports/store.ts';
import { hashPassword, verifyPassword } from '../core/secrets/password-verifier.ts';
import type { SecretBox } from '../core/secrets/secret-box.ts';

export interface ChallengeHookDeps {
  hookChallenges: HookChallengeRepository;
  /** The endpoint credentials' verifiers for every profile's row of this name (DomainRepository.endpointVerifiers). */
  endpointVerifiers(domain: string): Promise<{ username: string; verifier: string }[]>;
  /** Seals TLS challenge keys (AAD `hook_challenges:<id>:key`); null when the responder runs without MASTER_KEY. */
  secrets: Pick<SecretBox, 'seal' | 'open'> | null;
  newId(): string;
  now(): Date;
  /**
   * The core's own pending TLS-ALPN-01 challenge for a name (AuthorizationRepository.tlsAlpnMaterial): while
   * it stands the listener presents it, so a different hook certificate for that name is refused.
   */
  coreTlsAlpnChallenge(domain: string): Promise<CoreTlsAlpnChallenge | null>;
}

export const CHALLENGE_HOOK_PREFIX = '/challenge-hook';
export const CHALLENGE_HOOK_REALM = 'bigip-acme challenge-hook';
/** Three PEM blocks of at most 16 KiB each fit ten times over; anything larger is not a challenge payload. */
export const CHALLENGE_HOOK_BODY_LIMIT = 64 * 1024;

/** RFC 8737 §3: the acmeIdentifier extension, a critical OCTET STRING holding SHA-256(key authorization). */
const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';
const ALLOW = 'GET, HEAD, POST, DELETE';
const NO_STORE = { 'cache-control': 'no-store' } as const;
const UNAUTHORIZED_HEADERS = { ...NO_STORE, 'www-authenticate': `Basic realm="${CHALLENGE_HOOK_REALM}"` } as const;

type WireErrorCode = ErrorCode | 'unauthorized' | 'method_not_allowed' | 'payload_too_large' | 'unsupported_media_type';
type HookEnv = { Variables: { domain: string } };

/** The AAD a hook challenge's TLS-ALPN-01 key is sealed under (same as `secretAad('hook_challenges', id, 'key')`). */
export function hookKeyAad(id: string): string {
  return `hook_challenges:${id}:key`;
}

/**
 * A verifier of a random password nobody knows, checked when a domain has no endpoint credentials (or no user
 * of that name) so such a request costs the same scrypt as a real one and timing does not tell which domains
 * exist. Computed once per process, started when the hook is registered, so merely importing this module (the
 * CLI does) costs nothing.
 */
let dummyVerifier: Promise<string> | undefined;
function getDummyVerifier(): Promise<string> {
  dummyVerifier ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummyVerifier;
}

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

/** Equal-length digests, so the comparison takes the same time whatever the lengths. */
function sameUsername(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

async function authenticate(deps: ChallengeHookDeps, domain: string, header: string | undefined): Promise<boolean> {
  const credentials = parseBasicAuth(header);
  if (!credentials) return false;
  const verifiers = await deps.endpointVerifiers(domain);
  // Compare against every username (no early exit), then run scrypt at least once whatever matched.
  const candidates = verifiers.filter((v) => sameUsername(v.username, credentials.username));
  if (candidates.length === 0) {
    await verifyPassword(credentials.password, await getDummyVerifier());
    return false;
  }
  let ok = false;
  for (const candidate of candidates) {
    if (await verifyPassword(credentials.password, candidate.verifier)) ok = true;
  }
  return ok;
}

function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  // RFC 8259 §8.1: JSON between systems is UTF-8; any other declared charset is not what we parse.
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
}

/** Why a tls entry is not a TLS-ALPN-01 challenge certificate and key for `domain`, or null when it is. */
function tlsEntryProblem(domain: string, entry: Extract<ChallengeEntry, { type: 'tls' }>, at: string): string | null {
  let name: string;
  try {
    name = normalizeDomainName(domain, 'tls-alpn-01');
  } catch (err) {
    return `${at}.type: ${isCoreError(err) ? err.message : 'TLS-ALPN-01 is not possible for this domain'}`;
  }
  let blocks: string[];
  try {
    blocks = splitPemChain(entry.content);
  } catch {
    return `${at}.content: must be a PEM certificate`;
  }
  if (blocks.length !== 1) return `${at}.content: must be exactly one PEM certificate (the challenge certificate)`;

  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(blocks[0]!);
  } catch {
    return `${at}.content: not a readable certificate`;
  }
  const acmeIdentifier = cert.getExtension(ACME_IDENTIFIER_OID);
  if (!acmeIdentifier) {
    return `${at}.content: not a TLS-ALPN-01 challenge certificate (no acmeIdentifier extension)`;
  }
  const value = new Uint8Array(acmeIdentifier.value);
  // DER OCTET STRING (0x04) of 32 bytes (0x20): a SHA-256 digest.
  if (!acmeIdentifier.critical || value.length !== 34 || value[0] !== 0x04 || value[1] !== 0x20) {
    return `${at}.content: the acmeIdentifier extension must be critical and hold a SHA-256 digest`;
  }
  let sans: readonly x509.GeneralName[];
  try {
    sans = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  } catch {
    return `${at}.content: unreadable subjectAltName extension`;
  }
  const only = sans.length === 1 ? sans[0]! : undefined;
  if (only?.type !== 'dns' || only.value.toLowerCase() !== name) {
    const shown = sans.map((n) => `${n.type}:${n.value}`).join(', ') || 'none';
    return `${at}.content: the certificate must name exactly "${name}" (subjectAltName: ${shown})`;
  }

  try {
    createPrivateKey(entry.keyContent);
  } catch {
    return `${at}.keyContent: not a readable unencrypted private key PEM`;
  }
  try {
    if (!certificateMatchesKey(blocks[0]!, entry.keyContent)) {
      return `${at}.keyContent: does not match the certificate's public key`;
    }
  } catch {
    return `${at}.content: not a readable certificate`;
  }
  return null;
}

function shadowedMessage(at: string, domain: string, until: Date | null): string {
  const when = until ? `until ${until.toISOString()}` : '(no expiry given by the CA)';
  return (
    `${at}: the core has a pending TLS-ALPN-01 authorization for ${domain} ${when}, and the TLS-ALPN-01 listener ` +
    'presents its certificate for that name, so this one would never be presented; publish it again once that ' +
    'authorization is decided or has expired'
  );
}

function toWire(row: HookChallenge, secrets: ChallengeHookDeps['secrets']): ChallengeEntry | null {
  switch (row.type) {
    case 'http':
      return row.token ? { type: 'http', content: row.content, fileName: row.token } : null;
    case 'dns':
      return { type: 'dns', content: row.content };
    case 'tls':
      // Without MASTER_KEY the key cannot be opened, and a certificate without its key is no payload.
      if (!secrets || !row.keySealed) return null;
      return { type: 'tls', content: row.content, keyContent: secrets.open(row.keySealed, hookKeyAad(row.id)) };
  }
}

/**
 * `POST|GET|DELETE /challenge-hook/{domain}` (DESIGN.md §5): web servers and automation publish, read back
 * and clear a domain's challenges in the seed's wire format, authenticated with the domain's endpoint
 * credentials (HTTP Basic). Every answer is JSON and uncached; errors are `{error:{code,message}}` without any
 * secret; bad input is never a 5xx.
 */
export function registerChallengeHook(app: Hono, deps: ChallengeHookDeps): void {
  void getDummyVerifier();
  const hook = new Hono<HookEnv>();

  // Registered on the sub-app, so it wraps only these routes and answers in JSON like the rest of the hook.
  // An outage is not the caller's fault nor ours to hide: 503 with Retry-After, so automation tries again.
  hook.onError((err, c) =>
    isDatabaseUnavailable(err)
      ? problem(c, 503, 'db_unavailable', err.message, { ...NO_STORE, 'retry-after': '60' })
      : problem(c, 500, 'internal', 'internal error'),
  );

  hook.use('/:domain', async (c, next) => {
    if (!['GET', 'HEAD', 'POST', 'DELETE'].includes(c.req.method)) {
      return problem(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${ALLOW}`, {
        ...NO_STORE,
        allow: ALLOW,
      });
    }
    let domain: string;
    try {
      let raw = c.req.param('domain').toLowerCase();
      if (raw.endsWith('.')) raw = raw.slice(0, -1);
      domain = normalizeDomainName(raw, 'dns-01');
    } catch (err) {
      return problem(c, 400, 'domain_invalid', isCoreError(err) ? err.message : 'not a valid domain name');
    }
    if (!(await authenticate(deps, domain, c.req.header('authorization')))) return unauthorized(c);
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
      const domain = c.get('domain');
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
      let entries: ChallengeEntry[];
      try {
        entries = parseChallengePayload(body).challenges;
      } catch (err) {
        if (isCoreError(err)) return problem(c, 400, 'input_invalid', err.message);
        throw err;
      }

      // The TLS-ALPN-01 listener presents one certificate per name; a second would silently never be served.
      if (entries.filter((e) => e.type === 'tls').length > 1) {
        return problem(c, 400, 'input_invalid', 'challenges: at most one tls entry per domain');
      }
      for (const [i, entry] of entries.entries()) {
        if (entry.type !== 'tls') continue;
        const why = tlsEntryProblem(domain, entry, `challenges[${i}]`);
        if (why) return problem(c, 400, 'input_invalid', why);
      }
      const secrets = deps.secrets;
      if (!secrets && entries.some((e) => e.type === 'tls')) {
        return problem(c, 503, 'config_invalid', 'TLS-ALPN-01 payloads need MASTER_KEY on the responder');
      }
      // One rule decides which certificate the listener presents (core/domain/tls-alpn-source.ts); an entry it
      // would never present is refused rather than stored and reported as published.
      const tlsAt = entries.findIndex((e) => e.type === 'tls');
      if (tlsAt !== -1) {
        const shadow = hookTlsAlpnShadowed(
          await deps.coreTlsAlpnChallenge(domain),
          { certPem: entries[tlsAt]!.content },
          deps.now(),
        );
        if (shadow) return problem(c, 409, 'conflict', shadowedMessage(`challenges[${tlsAt}]`, domain, shadow.until));
      }

      const createdAt = deps.now();
      const rows = entries.map((entry): HookChallenge => {
        const id = deps.newId();
        const base = { id, domainName: domain, type: entry.type, content: entry.content, createdAt };
        if (entry.type === 'http') return { ...base, token: entry.fileName, keySealed: null };
        if (entry.type === 'dns') return { ...base, token: null, keySealed: null };
        return { ...base, token: null, keySealed: secrets!.seal(entry.keyContent, hookKeyAad(id)) };
      });
      await deps.hookChallenges.replace(domain, rows);
      return c.json({ stored: rows.length }, 201, NO_STORE);
    },
  );

  hook.get('/:domain', async (c) => {
    const rows = await deps.hookChallenges.list(c.get('domain'));
    const challenges = rows.map((row) => toWire(row, deps.secrets)).filter((e): e is ChallengeEntry => e !== null);
    return c.json({ challenges }, 200, NO_STORE);
  });

  hook.delete('/:domain', async (c) => {
    const cleared = await deps.hookChallenges.clear(c.get('domain'));
    return c.json({ cleared }, 200, NO_STORE);
  });

  app.route(CHALLENGE_HOOK_PREFIX, hook);
}
