/**
 * Why a certificate is revoked: the RFC 5280 §5.3.1 CRLReason names and codes that an ACME CA accepts on
 * revokeCert (RFC 8555 §7.6). `certificateHold` (6) is left out: a hold is not a revocation, and RFC 8555
 * CAs refuse it (Let's Encrypt answers `badRevocationReason`); 7 is unassigned and `removeFromCRL` (8) is
 * for CRL deltas only.
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASONS) as RevocationReason[];

/** Spellings are compared without case, `-`, `_` or spaces: `key-compromise`, `KEY_COMPROMISE`, `keyCompromise`. */
function folded(text: string): string {
  return text.replace(/[-_\s]/g, '').toLowerCase();
}

const BY_FOLDED = new Map(REVOCATION_REASON_NAMES.map((name) => [folded(name), name]));

/**
 * The reason named by `text` (RFC 5280 name in any case, camel, kebab or snake spelling, or its code number),
 * or null. `certificateHold` and unassigned codes are null.
 */
export function parseRevocationReason(text: string): RevocationReason | null {
  const trimmed = text.trim();
  if (/^\d{1,2}$/.test(trimmed)) {
    const code = Number(trimmed);
    return REVOCATION_REASON_NAMES.find((name) => REVOCATION_REASONS[name] === code) ?? null;
  }
  return BY_FOLDED.get(folded(trimmed)) ?? null;
}

/** The problem with `text` as a reason, for the `reason` field, or null when it names one. */
export function revocationReasonProblem(text: string | undefined): string | null {
  if (text === undefined || text.trim() === '') {
    return `a revocation needs a reason: one of ${REVOCATION_REASON_NAMES.join(', ')}`;
  }
  if (parseRevocationReason(text) !== null) return null;
  const hold = folded(text) === 'certificatehold' || text.trim() === '6';
  return hold
    ? `certificateHold is not a revocation ACME CAs accept (RFC 8555 §7.6); use one of ${REVOCATION_REASON_NAMES.join(', ')}`
    : `"${text.trim()}" is not a revocation reason; use one of ${REVOCATION_REASON_NAMES.join(', ')}`;
}

/** RFC 8555 §7.6: with keyCompromise the request can prove control of the certificate's own key by signing with it. */
export function signsWithCertificateKey(reason: RevocationReason): boolean {
  return reason === 'keyCompromise';
}
