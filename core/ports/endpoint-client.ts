import type { ChallengePayload } from '../domain/challenge-payload.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * Delivers challenge payloads to a domain's API endpoint (the seed's *API End Point*, *user name* and
 * *password*): the built-in responder's challenge hook, or an operator's own service that publishes them.
 */
export interface EndpointResult {
  /** True only for a 2xx answer. */
  ok: boolean;
  /** The HTTP status, or null when no response arrived (refused URL, DNS, connection, TLS, timeout). */
  status: number | null;
  /** One human line, never the password or the Authorization header. */
  detail: string;
  /**
   * Only when `ok` is false: how a caller that needs a CoreError should classify the failure.
   * `input_invalid` (the URL or user name is unusable, or the endpoint is refused by policy, redirects or
   * answers 4xx: fix the domain's settings) or `challenge_unreachable` (network, TLS, timeout or 5xx).
   */
  code?: Extract<ErrorCode, 'input_invalid' | 'challenge_unreachable'>;
  /** Only when `ok` is false: whether trying the same request again later can help. */
  retryable?: boolean;
}

export interface EndpointClient {
  /** Never throws: every failure, including an unusable URL, comes back as `ok: false`. */
  post(url: string, username: string, password: string, payload: ChallengePayload): Promise<EndpointResult>;
}
