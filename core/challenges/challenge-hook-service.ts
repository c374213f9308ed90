import { createHash, createPrivateKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { certificateMatchesKey } from '../domain/certificate-facts.ts';
import { splitPemChain } from '../domain/x509.ts';
import { type ChallengeEntry, parseChallengePayload } from '../domain/challenge-payload.ts';
import { normalizeDomainName } from '../domain/domain-name.ts';
import { type TlsAlpnCertificateProblem, tlsAlpnCertificateProblem } from '../domain/tls-alpn-certificate.ts';
import { type CoreTlsAlpnChallenge, hookTlsAlpnShadowed } from '../domain/tls-alpn-source.ts';
import { CoreError, type ErrorCode, isCoreError } from '../errors.ts';
import type { HookChallenge, HookChallengeRepository, Store } from '../ports/store.ts';
import { hashPassword, verifyPassword } from '../secrets/password-verifier.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { secretAad } from '../services/core-deps.ts';

export interface ChallengeHookDeps {
  hookChallenges: HookChallengeRepository;
  /** The endpoint credentials' verifiers for every profile's row of this name (DomainRepository.endpointVerifiers). */
  endpointVerifiers(domain: string): Promise<{ username: string; verifier: string }[]>;
  /** Seals TLS challenge keys (AAD `hook_challenges:<id>:key`); null in a responder running without MASTER_KEY. */
  secrets: Pick<SecretBox, 'seal' | 'open'> | null;
  newId(): string;
  now(): Date;
  /**
   * The core's own pending TLS-ALPN-01 challenge for a name (AuthorizationRepository.tlsAlpnMaterial): while
   * it stands the listener presents it, so a different hook certificate for that name is refused.
   */
  coreTlsAlpnChallenge(domain: string): Promise<CoreTlsAlpnChallenge | null>;
}

/** The hook's dependencies from the store, as both the responder and the core's in-process publishing build them. */
export function challengeHookDeps(
  store: Pick<Store, 'hookChallenges' | 'domains' | 'authorizations'>,
  secrets: ChallengeHookDeps['secrets'],
  now: () => Date,
  newId: () => string,
): ChallengeHookDeps {
  return {
    hookChallenges: store.hookChallenges,
    endpointVerifiers: (name) => store.domains.endpointVerifiers(name),
    secrets,
    newId,
    now,
    coreTlsAlpnChallenge: (name) => store.authorizations.tlsAlpnMaterial(name),
  };
}

/**
 * A verifier of a random password nobody knows, checked when a domain has no endpoint credentials (or no user
 * of that name) so such a request costs the same scrypt as a real one and timing does not tell which domains
 * exist. Computed once per process and only when asked for (`warmUp`), so building the core services (every
 * CLI command does) costs nothing.
 */
let dummyVerifier: Promise<string> | undefined;
function getDummyVerifier(): Promise<string> {
  dummyVerifier ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummyVerifier;
}

/** Equal-length digests, so the comparison takes the same time whatever the lengths. */
function sameUsername(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The domain a hook address names (`/challenge-hook/{domain}`): case and a trailing dot do not count, and a
 * wildcard is allowed (DNS-01). Throws domain_invalid.
 */
export function hookDomain(raw: string): string {
  let name = raw.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return normalizeDomainName(name, 'dns-01');
}

/**
 * The HTTP status the hook answers each of the service's refusals with, for the route and for the core's
 * in-process publishing alike; bad input is never a 5xx, and a missing MASTER_KEY is the responder's
 * condition, not the caller's fault. An outage is 503 too; anything else, 500.
 */
export const HOOK_REFUSAL_STATUS = {
  input_invalid: 400,
  domain_invalid: 400,
  conflict: 409,
  config_invalid: 503,
  db_unavailable: 503,
} as const satisfies Partial<Record<ErrorCode, number>>;

export function hookRefusalStatus(err: unknown): number {
  if (!isCoreError(err)) return 500;
  return (HOOK_REFUSAL_STATUS as Partial<Record<ErrorCode, number>>)[err.code] ?? 500;
}

function hookKeyAad(id: string): string {
  return secretAad('hook_challenges', id, 'key');
}

function invalid(message: string): CoreError {
  return new CoreError('input_invalid', message);
}

function certificateProblemText(problem: TlsAlpnCertificateProblem): string {
  switch (problem.reason) {
    case 'unreadable':
      return 'not a readable certificate';
    case 'wrong_names': {
      const shown = problem.names.map((n) => `${n.type}:${n.value}`).join(', ') || 'none';
      return `the certificate must name exactly "${problem.expected}" (subjectAltName: ${shown})`;
    }
    case 'no_acme_identifier':
      return 'not a TLS-ALPN-01 challenge certificate (no acmeIdentifier extension)';
    case 'malformed_acme_identifier':
    case 'digest_mismatch':
      return 'the acmeIdentifier extension must be critical and hold a SHA-256 digest';
  }
}

/** Why a tls entry is not a TLS-ALPN-01 challenge certificate and key for `domain`, or null when it is. */
function tlsEntryProblem(domain: string, entry: Extract<ChallengeEntry, { type: 'tls' }>, at: string): string | null {
  try {
    normalizeDomainName(domain, 'tls-alpn-01');
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
  // The responder does not know the key authorization: the digest's shape is checked, not its value.
  const problem = tlsAlpnCertificateProblem(blocks[0]!, domain);
  if (problem) return `${at}.content: ${certificateProblemText(problem)}`;
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

/**
 * The challenge-hook (DESIGN.md §5): web servers, automation and the core itself publish, read back and clear
 * a domain's challenges in the seed's wire format, authenticated with the domain's endpoint credentials. The
 * responder's `/challenge-hook/{domain}` route only parses HTTP and maps the outcome to a status; the core
 * calls this service directly when a domain publishes to the built-in responder.
 *
 * Failures are CoreErrors: `input_invalid` (the payload), `conflict` (a TLS-ALPN-01 certificate the listener
 * would never present), `config_invalid` (a tls entry without MASTER_KEY), `db_unavailable` (the store).
 */
export class ChallengeHookService {
  constructor(private readonly deps: ChallengeHookDeps) {}

  /** Starts computing the dummy verifier, so the first request for an unknown domain costs no extra scrypt. */
  warmUp(): void {
    void getDummyVerifier();
  }

  /** Whether `username`/`password` are endpoint credentials of `domain`; one scrypt check at least, whatever matched. */
  async authenticate(domain: string, username: string, password: string): Promise<boolean> {
    const verifiers = await this.deps.endpointVerifiers(domain);
    // Compare against every username (no early exit), then run scrypt at least once whatever matched.
    const candidates = verifiers.filter((v) => sameUsername(v.username, username));
    if (candidates.length === 0) {
      await verifyPassword(password, await getDummyVerifier());
      return false;
    }
    let ok = false;
    for (const candidate of candidates) {
      if (await verifyPassword(password, candidate.verifier)) ok = true;
    }
    return ok;
  }

  /**
   * Validates a payload for `domain` (a `hookDomain`) and replaces the domain's entries of each type in it;
   * returns how many were stored. Nothing is stored unless every entry is acceptable.
   */
  async publish(domain: string, payload: unknown): Promise<number> {
    let entries: ChallengeEntry[];
    try {
      entries = parseChallengePayload(payload).challenges;
    } catch (err) {
      if (isCoreError(err)) throw invalid(err.message);
      throw err;
    }
    // The TLS-ALPN-01 listener presents one certificate per name; a second would silently never be served.
    if (entries.filter((e) => e.type === 'tls').length > 1)
      throw invalid('challenges: at most one tls entry per domain');
    for (const [i, entry] of entries.entries()) {
      if (entry.type !== 'tls') continue;
      const why = tlsEntryProblem(domain, entry, `challenges[${i}]`);
      if (why) throw invalid(why);
    }
    const secrets = this.deps.secrets;
    if (!secrets && entries.some((e) => e.type === 'tls')) {
      throw new CoreError('config_invalid', 'TLS-ALPN-01 payloads need MASTER_KEY on the responder');
    }
    // One rule decides which certificate the listener presents (core/domain/tls-alpn-source.ts); an entry it
    // would never present is refused rather than stored and reported as published.
    const tlsAt = entries.findIndex((e) => e.type === 'tls');
    if (tlsAt !== -1) {
      const shadow = hookTlsAlpnShadowed(
        await this.deps.coreTlsAlpnChallenge(domain),
        { certPem: entries[tlsAt]!.content },
        this.deps.now(),
      );
      if (shadow) throw new CoreError('conflict', shadowedMessage(`challenges[${tlsAt}]`, domain, shadow.until));
    }

    const createdAt = this.deps.now();
    const rows = entries.map((entry): HookChallenge => {
      const id = this.deps.newId();
      const base = { id, domainName: domain, type: entry.type, content: entry.content, createdAt };
      if (entry.type === 'http') return { ...base, token: entry.fileName, keySealed: null };
      if (entry.type === 'dns') return { ...base, token: null, keySealed: null };
      return { ...base, token: null, keySealed: secrets!.seal(entry.keyContent, hookKeyAad(id)) };
    });
    await this.deps.hookChallenges.replace(domain, rows);
    return rows.length;
  }

  /** The domain's entries in the wire format; tls entries only when their key can be opened. */
  async list(domain: string): Promise<ChallengeEntry[]> {
    const rows = await this.deps.hookChallenges.list(domain);
    return rows.map((row) => this.toWire(row)).filter((e): e is ChallengeEntry => e !== null);
  }

  /** Removes every entry of the domain; returns how many. */
  clear(domain: string): Promise<number> {
    return this.deps.hookChallenges.clear(domain);
  }

  private toWire(row: HookChallenge): ChallengeEntry | null {
    const secrets = this.deps.secrets;
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
}
