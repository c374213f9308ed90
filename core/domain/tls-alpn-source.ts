/**
 * Which certificate the TLS-ALPN-01 listener presents for a name. A handshake can carry only one certificate,
 * and a name can have two candidates: the challenge of the core's own pending authorization, and one a web
 * server or automation published through the challenge-hook. The rule, written once and used by both the
 * listener (what to present) and the hook (what to refuse):
 *
 * 1. The core's challenge wins while its authorization is live: pending or processing (the store returns no
 *    other) and not past its expiry. The core is about to ask the CA to validate exactly that certificate;
 *    letting hook content, written by anyone holding the domain's endpoint credentials, replace it would
 *    fail the core's validation and burn the authorization.
 * 2. Otherwise the hook's entry, when there is one (the newest, one per domain).
 * 3. Otherwise nothing: the handshake is refused.
 *
 * A hook entry is therefore never presented while rule 1 holds, unless it *is* the core's certificate (the
 * core publishing its own challenge through `--builtin`, or a web server relaying `domain challenge --out`):
 * then presenting either is the same. HTTP-01 needs no such rule: its entries are keyed by token, and two
 * different challenges never share a token, so both are served side by side.
 */

/** The core's TLS-ALPN-01 challenge for a name, from its newest pending authorization. */
export interface CoreTlsAlpnChallenge {
  certPem: string;
  /** The authorization's expiry as the CA gave it; null when it gave none. */
  expiresAt: Date | null;
}

/** The hook's TLS-ALPN-01 entry for a name. */
export interface HookTlsAlpnChallenge {
  certPem: string;
}

export type TlsAlpnSource = 'core' | 'hook';

/** Whether the core's challenge still stands: an expired authorization will never be validated. */
function isLive(core: CoreTlsAlpnChallenge, now: Date): boolean {
  return core.expiresAt === null || core.expiresAt.getTime() > now.getTime();
}

/** Which candidate the listener presents for a name, or null (no certificate: refuse the handshake). */
export function presentedTlsAlpnSource(
  core: CoreTlsAlpnChallenge | null,
  hook: HookTlsAlpnChallenge | null,
  now: Date,
): TlsAlpnSource | null {
  if (core && isLive(core, now)) return 'core';
  return hook ? 'hook' : null;
}

/** The DER of a PEM certificate, as comparable text: armour, line breaks and blank space do not count. */
function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
}

/**
 * Whether a hook entry for the name would never be presented (rule 1 shadows it): then the hook refuses it.
 * Returns until when (the core authorization's expiry; null when the CA gave none), or null when the entry
 * would be presented, or is the very certificate the core presents.
 */
export function hookTlsAlpnShadowed(
  core: CoreTlsAlpnChallenge | null,
  hook: HookTlsAlpnChallenge,
  now: Date,
): { until: Date | null } | null {
  if (presentedTlsAlpnSource(core, hook, now) !== 'core') return null;
  if (certificateBody(core!.certPem) === certificateBody(hook.certPem)) return null;
  return { until: core!.expiresAt };
}
