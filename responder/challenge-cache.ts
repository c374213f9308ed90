import { isCoreError } from '../core/errors.ts';
import type { HttpChallenge } from '../core/ports/store.ts';

/** Where the cache gets pending HTTP-01 challenges from, and how it hears of changes. */
export interface ChallengeSource {
  all(): Promise<(HttpChallenge & { token: string })[]>;
  one(token: string): Promise<HttpChallenge | null>;
  /**
   * Calls onToken when a token's challenge may have changed; onLost when the subscription dropped (changes
   * are missed from then on); onResync once it is back (changes may have been missed).
   */
  listen(
    onToken: (token: string) => void,
    onResync: () => void,
    onLost?: (err: unknown) => void,
  ): Promise<() => Promise<void>>;
}

/**
 * Whether the cache is known to hold what the database holds. Stale from the moment the subscription drops
 * or a read fails, until a full reload succeeds with the subscription up: meanwhile the cache keeps
 * answering with what it had (decision 0006), and says since when it may be behind.
 */
export type CacheHealth = { fresh: true } | { fresh: false; since: Date; reason: string };

/** How often a stale cache tries a full reload again while its subscription is up (a lost one reloads on resync). */
const STALE_RETRY_MS = 5_000;

/**
 * Whether a request's Host header names the challenge's domain (case-insensitive, port and trailing dot
 * ignored). Binding answers to the Host keeps content published for one name from validating another.
 */
export function hostMatches(host: string | undefined, domain: string): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
  return name === domain;
}

/**
 * Pending HTTP-01 challenges in memory, so the responder's hot path never queries the database. Kept fresh by
 * notifications (LISTEN/NOTIFY on PostgreSQL, in-process on PGlite), with a periodic full reload as a safety
 * net for anything a notification could not carry.
 */
export class ChallengeCache {
  private tokens = new Map<string, HttpChallenge>();
  private unlisten: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Tokens notified while a full reload is in flight: re-read after it lands so the snapshot cannot undo them. */
  private changedDuringReload: Set<string> | undefined;
  /** False between a dropped subscription and its resync: no full reload can make the cache fresh then. */
  private listening = false;
  private stale: { since: Date; reason: string } | null = null;
  /** Counts read failures, so a reload that overlapped a failure does not declare the cache fresh. */
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly source: ChallengeSource,
    private readonly opts: {
      refreshMs?: number;
      /** How soon a stale cache with its subscription up tries a full reload again (default 5 s). */
      staleRetryMs?: number;
      onError?: (err: unknown) => void;
      /** Told once when the cache turns stale and once when it is fresh again (for the log). */
      onHealth?: (health: CacheHealth) => void;
      now?: () => Date;
    } = {},
  ) {}

  /** Subscribes first, then loads, so no change between the two is lost. */
  async start(): Promise<void> {
    this.unlisten = await this.source.listen(
      (token) => void this.refresh(token),
      () => {
        this.listening = true;
        void this.reload().catch(this.report);
      },
      (err) => {
        this.listening = false;
        this.markStale(err);
      },
    );
    this.listening = true;
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch(this.report), this.opts.refreshMs ?? 60_000);
    this.timer.unref();
  }

  get(token: string): HttpChallenge | null {
    return this.tokens.get(token) ?? null;
  }

  /** The body for a request of `token` with this Host header, or null (answered as 404). */
  answer(token: string, host: string | undefined): string | null {
    const challenge = this.tokens.get(token);
    return challenge && hostMatches(host, challenge.domain) ? challenge.keyAuthorization : null;
  }

  get size(): number {
    return this.tokens.size;
  }

  health(): CacheHealth {
    return this.stale ? { fresh: false, ...this.stale } : { fresh: true };
  }

  /**
   * Records that the database could not be read (by the cache or, say, a readiness probe): the cache may be
   * behind from now on, and tries a full reload again until one succeeds.
   */
  markStale(err: unknown): void {
    this.failures++;
    if (!this.stale) {
      this.stale = { since: this.opts.now?.() ?? new Date(), reason: reasonOf(err) };
      this.opts.onHealth?.(this.health());
    }
    this.retrySoon();
  }

  async reload(): Promise<void> {
    const changed = new Set<string>();
    this.changedDuringReload = changed;
    const listening = this.listening;
    const failures = this.failures;
    try {
      const rows = await this.source.all();
      this.tokens = new Map(rows.map((r) => [r.token, { keyAuthorization: r.keyAuthorization, domain: r.domain }]));
    } catch (err) {
      // The tokens held stay as they are: answering with what it had beats answering nothing.
      this.markStale(err);
      throw err;
    } finally {
      this.changedDuringReload = undefined;
    }
    await Promise.all([...changed].map((token) => this.refresh(token)));
    // Fresh only if nothing could have been missed: the subscription was up and no read failed meanwhile.
    if (this.stale && listening && this.listening && this.failures === failures) {
      this.stale = null;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.opts.onHealth?.(this.health());
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    await this.unlisten?.();
  }

  private retrySoon(): void {
    // Without a subscription the resync reloads; with one, nothing else would before the next minute.
    if (this.retryTimer || this.stopped || !this.listening) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.reload().catch(this.report);
    }, this.opts.staleRetryMs ?? STALE_RETRY_MS);
    this.retryTimer.unref();
  }

  private async refresh(token: string): Promise<void> {
    this.changedDuringReload?.add(token);
    try {
      const value = await this.source.one(token);
      if (value) this.tokens.set(token, value);
      else this.tokens.delete(token);
    } catch (err) {
      // This token may now be behind: stale until a full reload has caught up.
      this.markStale(err);
      this.report(err);
    }
  }

  private readonly report = (err: unknown) => this.opts.onError?.(err);
}

/** The driver's reason when the store gave one (`db_unavailable` carries it in detail), else the message. */
function reasonOf(err: unknown): string {
  if (isCoreError(err) && typeof err.detail?.['reason'] === 'string') return err.detail['reason'];
  return err instanceof Error ? err.message : String(err);
}
