/**
 * Checks that challenge content is reachable the way the ACME CA will see it, before the CA is asked to
 * validate. A failed validation costs a rate-limited attempt and invalidates the authorization, so Test
 * Connection probes first and tells the operator exactly what it saw.
 */
export interface ProbeResult {
  ok: boolean;
  /** One human line: what was checked and what was seen, never a secret. */
  detail: string;
  /** What was actually observed (body, TXT values, ALPN), truncated to 200 chars. */
  observed?: string;
}

export interface ChallengeProbe {
  /** http-01: GET /.well-known/acme-challenge/<token> must answer 200 with the key authorization. */
  http(domain: string, token: string, keyAuthorization: string): Promise<ProbeResult>;
  /** dns-01: `domain` may be `*.x`, which is validated at `_acme-challenge.x`. */
  dns(domain: string, expectedTxt: string): Promise<ProbeResult>;
  /** tls-alpn-01: an `acme-tls/1` handshake must present the challenge certificate for the domain. */
  tlsAlpn(domain: string, keyAuthorization: string): Promise<ProbeResult>;
}
