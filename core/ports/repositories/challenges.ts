import type { PayloadType } from '../../domain/challenge-payload.ts';

/** What the responder needs to answer an HTTP-01 request: the body, and the Host it may be answered for. */
export interface HttpChallenge {
  keyAuthorization: string;
  domain: string;
}

/** Challenge content published through the responder's challenge-hook. */
export interface HookChallenge {
  id: string;
  domainName: string;
  type: PayloadType;
  /** HTTP-01 file name (the token); null for dns and tls. */
  token: string | null;
  /** Key authorization, TXT value, or PEM certificate. */
  content: string;
  /** The sealed TLS-ALPN-01 challenge key (AAD `hook_challenges:<id>:key`). */
  keySealed: string | null;
  createdAt: Date;
}

export interface HookChallengeRepository {
  /** Replaces the domain's entries of each type present in `entries`, atomically (a POST supersedes). */
  replace(domainName: string, entries: HookChallenge[]): Promise<void>;
  list(domainName: string): Promise<HookChallenge[]>;
  /** Removes every entry of the domain; returns how many. */
  clear(domainName: string): Promise<number>;
  httpChallenge(token: string): Promise<HttpChallenge | null>;
  allHttp(): Promise<(HttpChallenge & { token: string })[]>;
  tlsMaterial(domainName: string): Promise<{ id: string; certPem: string; keySealed: string } | null>;
  /** Removes entries published before `before` (nobody cleared them); returns how many. */
  purgeOlderThan(before: Date): Promise<number>;
}
