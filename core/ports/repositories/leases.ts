/**
 * Claims on work shared by every replica. A claim lasts `ttlMs` from the database's clock (so replicas'
 * clocks need not agree) and frees itself when its holder dies; the holder renews it while it works and must
 * re-check that the work is still due after claiming.
 */
export interface LeaseRepository {
  /** True when `holder` now holds `key` (it was free, expired, or already held by `holder`). */
  tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a claim; false when `holder` no longer holds it. */
  renew(key: string, holder: string, ttlMs: number): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;
  /** Removes claims that expired more than `olderThanMs` ago; returns how many. */
  purgeExpired(olderThanMs: number): Promise<number>;
}
