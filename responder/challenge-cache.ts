import type { HttpChallenge } from '../core/ports/store.ts';

/** Where the cache gets pending HTTP-01 challenges from, and how it hears of changes. */
export interface ChallengeSource {
  all(): Promise<(HttpChallenge & { token: string })[]>;
  one(token: string): Promise<HttpChallenge | null>;
  /** Calls onToken when a token's challenge may have changed; onResync when changes may have been missed. */
  listen(onToken: (token: string) => void, onResync: () => void): Promise<() => Promise<void>>;
}

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
  /** Tokens notified while a full reload is in flight: re-read after it lands so the snapshot cannot undo them. */
  private changedDuringReload: Set<string> | undefined;

  constructor(
    private readonly source: ChallengeSource,
    private readonly opts: { refreshMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  /** Subscribes first, then loads, so no change between the two is lost. */
  async start(): Promise<void> {
    this.unlisten = await this.source.listen(
      (token) => void this.refresh(token),
      () => void this.reload().catch(this.report),
    );
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

  async reload(): Promise<void> {
    const changed = new Set<string>();
    this.changedDuringReload = changed;
    try {
      const rows = await this.source.all();
      this.tokens = new Map(rows.map((r) => [r.token, { keyAuthorization: r.keyAuthorization, domain: r.domain }]));
    } finally {
      this.changedDuringReload = undefined;
    }
    await Promise.all([...changed].map((token) => this.refresh(token)));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unlisten?.();
  }

  private async refresh(token: string): Promise<void> {
    this.changedDuringReload?.add(token);
    try {
      const value = await this.source.one(token);
      if (value) this.tokens.set(token, value);
      else this.tokens.delete(token);
    } catch (err) {
      this.report(err);
    }
  }

  private readonly report = (err: unknown) => this.opts.onError?.(err);
}
