import type { CoreEvent, CoreEventKind } from '../domain/core-event.ts';
import type { CoreDeps } from './core-deps.ts';

/** Event kinds that mean something went wrong and is not (yet) shown by a certificate's or domain's own state. */
const PROBLEM_KINDS: ReadonlySet<CoreEventKind> = new Set(['deploy_failed', 'challenge_expired']);

/** How far back "recent" reaches, and how many events are looked at for it (newest first). */
const RECENT_MS = 7 * 86_400_000;
const LOOK_BACK_EVENTS = 500;

/** What happened lately, from the event outbox (delivered or not): for dashboards, never for decisions. */
export class ActivityService {
  constructor(private readonly deps: CoreDeps) {}

  /** Failures of the last seven days, newest first; bounded by the newest 500 events of any kind. */
  async recentProblems(limit = 50): Promise<CoreEvent[]> {
    const since = this.deps.clock.now().getTime() - RECENT_MS;
    const events = await this.deps.store.events.list({ limit: LOOK_BACK_EVENTS });
    return events.filter((e) => PROBLEM_KINDS.has(e.kind) && e.createdAt.getTime() >= since).slice(0, limit);
  }
}
