import type { Clock } from '../ports/clock.ts';

export interface CachedValue<T> {
  /** The newest value read; null until a read has succeeded once. */
  value: T | null;
  /** True when the last read failed or did not answer in time: `value` is older than it should be. */
  stale: boolean;
}

export interface CachedReadOptions {
  /** A value (or a failure) this young is answered again without reading. */
  maxAgeMs: number;
  /** A read slower than this is answered with the last value (stale); the read carries on and fills the cache. */
  timeoutMs: number;
  clock: Pick<Clock, 'now'>;
  onError?: (err: unknown) => void;
}

/**
 * A value read on demand behind a short cache, for scrapes: many scrapers at once (or one per metric) share
 * one read, a failed read is not retried before `maxAgeMs` (an outage is not hammered), and a read that fails
 * or hangs answers with the last good value marked stale instead of failing the scrape.
 */
export class CachedRead<T> {
  private value: T | null = null;
  private stale = false;
  private attemptedAt: number | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly opts: CachedReadOptions,
  ) {}

  async get(): Promise<CachedValue<T>> {
    const now = this.opts.clock.now().getTime();
    if (this.inFlight === null && (this.attemptedAt === null || now - this.attemptedAt >= this.opts.maxAgeMs)) {
      this.attemptedAt = now;
      this.inFlight = this.read().then(
        (value) => {
          this.value = value;
          this.stale = false;
        },
        (err: unknown) => {
          this.stale = true;
          this.opts.onError?.(err);
        },
      );
      void this.inFlight.finally(() => {
        this.inFlight = null;
      });
    }
    if (this.inFlight !== null) await this.withinTimeout(this.inFlight);
    return { value: this.value, stale: this.stale };
  }

  private async withinTimeout(read: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.opts.timeoutMs);
    });
    try {
      if ((await Promise.race([read, timedOut])) === 'timeout') this.stale = true;
    } finally {
      clearTimeout(timer);
    }
  }
}
