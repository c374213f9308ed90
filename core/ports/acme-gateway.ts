/**
 * What the core needs from an ACME CA (RFC 8555). The adapter classifies every failure into a CoreError
 * (`acme_unreachable`, `acme_rate_limited`, `acme_error`, …) keeping the CA's problem document in `detail`.
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
  newOrder(account: AcmeAccount, names: string[], opts?: { profile?: string | undefined }): Promise<AcmeOrder>;
  getOrder(account: AcmeAccount, url: string): Promise<AcmeOrder>;
  getAuthorization(account: AcmeAccount, url: string): Promise<AcmeAuthorization>;
  /** RFC 8555 §8.1 key authorization `token.thumbprint` (the DNS TXT value is derived from it). */
  keyAuthorization(account: AcmeAccount, token: string): string;
  answerChallenge(account: AcmeAccount, challengeUrl: string): Promise<AcmeChallenge>;
  finalize(account: AcmeAccount, order: Pick<AcmeOrder, 'url' | 'finalize'>, csrPem: string): Promise<AcmeOrder>;
  downloadCertificate(account: AcmeAccount, certificateUrl: string): Promise<string>;
  deactivateAuthorization(account: AcmeAccount, url: string): Promise<void>;
}
