import { type CoreEventKind, dayKey } from '../domain/core-event.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';

/**
 * A certificate's event in the outbox, from whichever use case did the work (a person's `cert renew` or the
 * sweep): one per certificate, kind and UTC day, or finer with a discriminator (a serial, a device).
 */
export function emitCertificateEvent(
  deps: Pick<CoreDepsWith<'events'>, 'store' | 'clock'>,
  cert: Pick<ManagedCertificate, 'id' | 'name'>,
  kind: CoreEventKind,
  detail: Record<string, unknown>,
  needsPerson: boolean,
  discriminator?: string,
): Promise<boolean> {
  const day = dayKey(deps.clock.now());
  return deps.store.events.emit({
    kind,
    certificateId: cert.id,
    subject: cert.name,
    dedupeKey: `${cert.id}:${kind}:${day}${discriminator ? `:${discriminator}` : ''}`,
    detail,
    needsPerson,
  });
}
