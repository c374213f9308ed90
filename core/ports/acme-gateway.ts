/**
 * What the core needs from an ACME CA (RFC 8555). The adapter classifies every failure into a CoreError
 * (`acme_unreachable`, `acme_rate_limited`, `acme_error`, …) keeping the CA's problem document in `detail`.
 * A rejected nonce is the adapter's to resend (one rule, at most 10 sends): `acme_bad_nonce` reaching a
 * caller means the CA kept refusing, and callers do not resend it again.
 */
export interface AcmeProblem {
  type: string;
  detail: string;
  status?: number;
  subproblems?: { type: string; detail: string; identifier?: { type: string; value: string } }[];
}

export interface DirectoryInfo {
  url: string;
  termsOfService: string | null;
  website: string | null;
  caaIdentities: string[];
  externalAccountRequired: boolean;
  /** ACME profiles offered (name → description), empty when the CA has none. */
  profiles: Record<string, string>;
  renewalInfo: string | null;
}

export interface AcmeAccount {
  directoryUrl: string;
  accountKeyPem: string;
  accountUrl: string;
}

export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface AcmeOrder {
  url: string;
  status: AcmeOrderStatus;
  identifiers: { type: string; value: string }[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  expires?: string;
  error?: AcmeProblem;
  /** From Retry-After, when the CA asked the client to wait before polling again. */
  retryAfterMs?: number;
}

export interface AcmeChallenge {
  type: string;
  url: string;
  token: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  error?: AcmeProblem;
}

export interface AcmeAuthorization {
  url: string;
  identifier: { type: string; value: string };
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  expires?: string;
  wildcard?: boolean;
  challenges: AcmeChallenge[];
  retryAfterMs?: number;
}

/** A CA's renewal suggestion for one certificate (RFC 9773 §4.2). */
export interface RenewalInfo {
  /** Renew at a random time inside it; null when the CA gave none usable (missing, unparsable, end <= start, 404). */
  window: { start: Date; end: Date } | null;
  explanationUrl: string | null;
  /** When to poll again: the CA's Retry-After clamped to [1 h, 7 d]; 6 h when it sent none. No jitter applied. */
  retryAfterMs: number;
}

export interface EabCredentials {
  kid: string;
  hmacKey: string;
}

export interface AcmeGateway {
  directory(url: string): Promise<DirectoryInfo>;
  createAccount(input: {
    directoryUrl: string;
    accountKeyPem: string;
    contact: string[];
    termsOfServiceAgreed: boolean;
    eab?: EabCredentials;
  }): Promise<string>;
  updateContact(account: AcmeAccount, contact: string[]): Promise<void>;
  /**
   * `replaces` is the ARI CertID (RFC 9773 §5) of the certificate this order renews. When the CA answers 409
   * `alreadyReplaced`, the gateway retries the same order once without it.
   */
  newOrder(
    account: AcmeAccount,
    names: string[],
    opts?: { profile?: string | undefined; replaces?: string | undefined },
  ): Promise<AcmeOrder>;
  getOrder(account: AcmeAccount, url: string): Promise<AcmeOrder>;
  getAuthorization(account: AcmeAccount, url: string): Promise<AcmeAuthorization>;
  /** RFC 8555 §8.1 key authorization `token.thumbprint` (the DNS TXT value is derived from it). */
  keyAuthorization(account: AcmeAccount, token: string): string;
  answerChallenge(account: AcmeAccount, challengeUrl: string): Promise<AcmeChallenge>;
  finalize(account: AcmeAccount, order: Pick<AcmeOrder, 'url' | 'finalize'>, csrPem: string): Promise<AcmeOrder>;
  downloadCertificate(account: AcmeAccount, certificateUrl: string): Promise<string>;
  deactivateAuthorization(account: AcmeAccount, url: string): Promise<void>;
  /**
   * GET renewalInfo (unauthenticated) for the leaf of `certPem`. null when the directory offers no
   * renewalInfo. A 404 (the CA does not know the certificate) gives `window: null`, not an error.
   */
  renewalInfo(directoryUrl: string, certPem: string): Promise<RenewalInfo | null>;
  /** RFC 8555 §7.3.6: the account can never be used again (its key signs nothing more at this CA). */
  deactivateAccount(account: AcmeAccount): Promise<void>;
  /**
   * RFC 8555 §7.6 revokeCert for the leaf of `certPem` with an RFC 5280 reason code, signed by the account
   * (`kid`). A CA answering `alreadyRevoked` gives `already_revoked`, not an error: revoking twice is one revocation.
   */
  revokeCertificate(account: AcmeAccount, certPem: string, reasonCode: number): Promise<RevocationOutcome>;
  /**
   * The same request signed with the certificate's own private key (JWS `jwk` header, no account): it proves
   * control of the key, what RFC 8555 §7.6 provides for a key compromise. Same nonces and limits as every request.
   */
  revokeCertificateWithKey(
    directoryUrl: string,
    certPem: string,
    certKeyPem: string,
    reasonCode: number,
  ): Promise<RevocationOutcome>;
}

/** What the CA answered a revokeCert with: done now, or it had been revoked before (RFC 8555 `alreadyRevoked`). */
export type RevocationOutcome = 'revoked' | 'already_revoked';
