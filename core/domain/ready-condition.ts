import type { ManagedCertificate } from './managed-certificate.ts';

/**
 * cert-manager's `Ready` condition, which operators already alert on: is there a certificate a client can be
 * served right now? A renewal that fails while the live certificate is still valid does not make it `False`
 * (that has its own signal, the failed-attempt count); expiry does.
 *
 * - `True`: a certificate was issued and has not expired.
 * - `False`: it expired, or the first issuance failed or was denied.
 * - `Unknown`: the first issuance is still under way (ordering, waiting for challenge content or an approval).
 */
export type ReadyCondition = 'True' | 'False' | 'Unknown';

export const READY_CONDITIONS: readonly ReadyCondition[] = ['True', 'False', 'Unknown'];

export type ReadyFacts = Pick<ManagedCertificate, 'state' | 'serial' | 'notAfter'>;

export function readyCondition(cert: ReadyFacts, now: Date): ReadyCondition {
  if (cert.serial !== null && cert.notAfter !== null) return cert.notAfter > now ? 'True' : 'False';
  return cert.state === 'failed' ? 'False' : 'Unknown';
}
