import type { CaProfile } from '../domain/ca-profile.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { renewalTime } from '../domain/renewal-time.ts';

/** What `renewAt`/`renewReason` are computed from: the certificate's own validity and the stored ARI window. */
export type ScheduledCertificate = Pick<ManagedCertificate, 'ariWindowStart' | 'ariWindowEnd'> & {
  notBefore: Date;
  notAfter: Date;
};

/**
 * When a certificate is renewed: the one place `renewalTime` is applied to a certificate and its profile,
 * when a chain downloads (no ARI window yet) and when the CA's ARI window changes. Persisted on the row, so a
 * random point in a window stays put between sweeps.
 */
export function renewalSchedule(
  cert: ScheduledCertificate,
  profile: Pick<CaProfile, 'renewDaysBefore'>,
  now: Date,
  random: () => number = Math.random,
): { renewAt: Date; renewReason: string } {
  const decision = renewalTime({
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    renewDaysBefore: profile.renewDaysBefore,
    ariWindow: cert.ariWindowStart && cert.ariWindowEnd ? { start: cert.ariWindowStart, end: cert.ariWindowEnd } : null,
    now,
    random,
  });
  return { renewAt: decision.at, renewReason: decision.reason };
}
