/**
 * The last step of a deploy: a TLS handshake with a virtual server's address, reading which certificate it
 * presents. The certificate is read, not trusted: only its serial and fingerprint are compared.
 */
export interface ServedCertificateTarget {
  host: string;
  port: number;
  /** SNI; null sends none. */
  servername: string | null;
  timeoutMs: number;
}

export interface ServedCertificate {
  /** Hex, as Node reports it. */
  serial: string;
  /** `AA:BB:…` SHA-256 of the leaf. */
  fingerprint256: string;
}

/** Rejects with a CoreError when no handshake completes (refused, timed out, reset, no certificate). */
export type ServedCertificateProbe = (target: ServedCertificateTarget) => Promise<ServedCertificate>;
