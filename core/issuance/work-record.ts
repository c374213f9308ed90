import type { ManagedCertificate } from '../domain/managed-certificate.ts';

/**
 * The record the issuance state machine works on, and the patches that restart an order. A first issuance
 * moves the certificate's own state, key and CSR; a renewal moves the renewal's (`renewalState`,
 * `renewalKeySealed`, `renewalCsrPem`) beside the live certificate, which stays `issued`. Either is handed to
 * the steps as the same record, and every order reset is written here once.
 */

export type CertificatePatch = Partial<Omit<ManagedCertificate, 'id' | 'createdAt' | 'updatedAt'>>;

/** The columns a step works on: the renewal's while one is in flight, else the certificate's own. */
export function workOf(row: ManagedCertificate): ManagedCertificate {
  if (row.renewalState === null) return row;
  return { ...row, state: row.renewalState, keySealed: row.renewalKeySealed, csrPem: row.renewalCsrPem, problem: null };
}

/** A step's patch, written to the renewal's columns when a renewal is in flight. */
export function renewalPatch(patch: CertificatePatch, now: Date): CertificatePatch {
  const { state, keySealed, csrPem, problem, ...rest } = patch;
  if (state === 'issued') {
    // The new chain is in: chain, key and CSR replace the live ones in this one write.
    return {
      ...rest,
      state,
      ...(keySealed !== undefined ? { keySealed } : {}),
      ...(csrPem !== undefined ? { csrPem } : {}),
      renewalState: null,
      renewalKeySealed: null,
      renewalCsrPem: null,
      lastRenewalError: null,
    };
  }
  return {
    ...rest,
    ...(state !== undefined ? { renewalState: state } : {}),
    ...(keySealed !== undefined ? { renewalKeySealed: keySealed } : {}),
    ...(csrPem !== undefined ? { renewalCsrPem: csrPem } : {}),
    // A problem on the way is the renewal's error until success clears it; "no problem" on the way does not
    // clear it (`failedAttempts` still counts the attempts that failed).
    ...(problem ? { lastRenewalError: { code: problem.type, message: problem.detail, at: now.toISOString() } } : {}),
  };
}

/** Forgetting an order: the next step creates a new one. */
export function noOrder() {
  return { orderUrl: null, finalizeUrl: null, authorizationUrls: [] as string[], orderStatus: null };
}

/** A new request's order budget: no order, none attempted. */
export function freshOrder() {
  return { ...noOrder(), orderAttempts: 0 };
}

/**
 * Restarts the work in flight (the renewal's when one runs, else the certificate's own) with a new order and
 * the same key: `ordering` when the key exists, `requested` when it has yet to be made.
 */
export function orderRestart(cert: ManagedCertificate): CertificatePatch {
  const step = (hasKey: boolean) => (hasKey ? ('ordering' as const) : ('requested' as const));
  return {
    ...(cert.renewalState !== null
      ? { renewalState: step(Boolean(cert.renewalKeySealed)) }
      : { state: step(Boolean(cert.keySealed)) }),
    ...freshOrder(),
  };
}

/**
 * A certificate with a fresh chain (or none yet) has no ARI window fetched, no failed attempts and no renewal
 * in flight.
 */
export function renewalBookkeepingCleared() {
  return {
    ariWindowStart: null,
    ariWindowEnd: null,
    ariNextPollAt: null,
    failedAttempts: 0,
    nextAttemptAt: null,
    renewalStartedAt: null,
  };
}

/** A renewal starts beside the live certificate: no key, no CSR, no order yet. */
export function renewalStart(now: Date): CertificatePatch {
  return {
    renewalState: 'requested',
    renewalKeySealed: null,
    renewalCsrPem: null,
    ...freshOrder(),
    renewalStartedAt: now,
  };
}
