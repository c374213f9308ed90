import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';
import { emitCertificateEvent } from './certificate-events.ts';

/**
 * How a certificate request ended, for the person who filed it: issued, failed (the CA or a challenge
 * refused it), or denied by an approver. One `request_outcome` event in the outbox each, naming the
 * requester (`slack:U…`, `cli:…`), so a notifier can tell them even after a restart. Never a secret:
 * the reason is the CA's problem detail or the approver's words.
 */
export type RequestOutcome =
  | { outcome: 'issued'; serial: string | null; notAfter: Date | null }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'denied'; reason: string; by: string };

export function emitRequestOutcome(
  deps: Pick<CoreDepsWith<'events'>, 'store' | 'clock'>,
  cert: Pick<ManagedCertificate, 'id' | 'name' | 'requestedBy'>,
  requester: string,
  o: RequestOutcome,
): Promise<boolean> {
  const detail: Record<string, unknown> =
    o.outcome === 'issued'
      ? { outcome: o.outcome, serial: o.serial, notAfter: o.notAfter?.toISOString() ?? null }
      : o.outcome === 'failed'
        ? { outcome: o.outcome, reason: o.reason }
        : { outcome: o.outcome, reason: o.reason, by: o.by };
  // One per outcome and serial (or reason): a failed request resumed and failed again the same day is told again.
  const discriminator = o.outcome === 'issued' ? `issued:${o.serial ?? ''}` : `${o.outcome}:${hashOf(o.reason)}`;
  return emitCertificateEvent(deps, cert, 'request_outcome', { requester, ...detail }, false, discriminator);
}

/** A short stable tag of a text (FNV-1a), so a dedupe key stays short whatever the reason says. */
function hashOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}
