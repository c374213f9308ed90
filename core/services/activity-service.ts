import type { AuditEntry } from '../domain/audit-entry.ts';
import type { CoreEvent, CoreEventKind } from '../domain/core-event.ts';
import { redactDetail } from '../domain/redact-detail.ts';
import { CoreError, seeList } from '../errors.ts';
import type { CoreDepsWith } from './core-deps.ts';

/** Event kinds that mean something went wrong and is not (yet) shown by a certificate's or domain's own state. */
const PROBLEM_KINDS: ReadonlySet<CoreEventKind> = new Set(['deploy_failed', 'challenge_expired']);

/** How far back "recent" reaches, and how many events are looked at for it (newest first). */
const RECENT_MS = 7 * 86_400_000;
const LOOK_BACK_EVENTS = 500;
/** The most rows one listing returns. */
export const MAX_LIST_LIMIT = 1000;

export interface EventQuery {
  kinds?: CoreEventKind[];
  /** A certificate name; its events only. */
  certificate?: string;
  since?: Date;
  undelivered?: boolean;
  limit: number;
}

export interface AuditQuery {
  actor?: string;
  /** The object's name (certificate, domain, profile, device). */
  object?: string;
  /** An action or its family (`certificate.renew` also finds `certificate.renew.abandon_order`). */
  action?: string;
  since?: Date;
  limit: number;
}

/** What happened: the event outbox (delivered or not) and the audit log. For people and dashboards, never for decisions. */
export class ActivityService {
  constructor(private readonly deps: CoreDepsWith<'audit' | 'certificates' | 'events'>) {}

  /** Failures of the last seven days, newest first; bounded by the newest 500 events of any kind. */
  async recentProblems(limit = 50): Promise<CoreEvent[]> {
    const since = this.deps.clock.now().getTime() - RECENT_MS;
    const events = await this.deps.store.events.list({ limit: LOOK_BACK_EVENTS });
    return events.filter((e) => PROBLEM_KINDS.has(e.kind) && e.createdAt.getTime() >= since).slice(0, limit);
  }

  /** The outbox, newest first, filtered. */
  async events(q: EventQuery): Promise<CoreEvent[]> {
    let certificateId: string | undefined;
    if (q.certificate !== undefined) {
      const cert = await this.deps.store.certificates.findByName(q.certificate);
      if (!cert) throw new CoreError('not_found', `no certificate named "${q.certificate}"`, { hint: seeList('cert') });
      certificateId = cert.id;
    }
    const rows = await this.deps.store.events.list({
      ...(certificateId ? { certificateId } : {}),
      ...(q.kinds ? { kinds: q.kinds } : {}),
      ...(q.since ? { since: q.since } : {}),
      ...(q.undelivered ? { undelivered: true } : {}),
      limit: checkedLimit(q.limit),
    });
    return rows.map((e) => ({ ...e, detail: redactDetail(e.detail) }));
  }

  /** The audit log, newest first, filtered. */
  async audit(q: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.deps.store.audit.list({
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.object ? { objectName: q.object } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.since ? { since: q.since } : {}),
      limit: checkedLimit(q.limit),
    });
    return rows.map((e) => ({ ...e, detail: redactDetail(e.detail) }));
  }
}

function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new CoreError('input_invalid', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT} (got ${limit})`);
  }
  return limit;
}
