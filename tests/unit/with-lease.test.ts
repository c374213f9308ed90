import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/ports/logger.ts';
import type { LeaseRepository } from '../../core/ports/store.ts';
import { withLease } from '../../core/services/with-lease.ts';

/** In-memory leases with the store's contract (holder-reentrant, expiring). */
function memoryLeases(): LeaseRepository & { held: Map<string, { holder: string; until: number }> } {
  const held = new Map<string, { holder: string; until: number }>();
  return {
    held,
    async tryAcquire(key, holder, ttlMs) {
      const cur = held.get(key);
      if (cur && cur.until > Date.now() && cur.holder !== holder) return false;
      held.set(key, { holder, until: Date.now() + ttlMs });
      return true;
    },
    async renew(key, holder, ttlMs) {
      const cur = held.get(key);
      if (cur?.holder !== holder) return false;
      cur.until = Date.now() + ttlMs;
      return true;
    },
    async release(key, holder) {
      if (held.get(key)?.holder === holder) held.delete(key);
    },
    async purgeExpired() {
      return 0;
    },
  };
}

describe('withLease', () => {
  it('two runs in one process exclude each other like two replicas', async () => {
    const leases = memoryLeases();
    let release!: () => void;
    const blocker = new Promise<void>((r) => (release = r));
    const first = withLease(leases, 'renew:1', { holder: 'host:1', ttlMs: 60_000 }, silentLogger, () =>
      blocker.then(() => 'first'),
    );
    await new Promise((r) => setTimeout(r, 5));
    const second = await withLease(
      leases,
      'renew:1',
      { holder: 'host:1', ttlMs: 60_000 },
      silentLogger,
      async () => 'second',
    );
    expect(second).toEqual({ ran: false });
    release();
    expect(await first).toEqual({ ran: true, value: 'first' });
    expect(leases.held.size).toBe(0);
  });

  it('keeps the claim alive while working and releases it when the work throws', async () => {
    const leases = memoryLeases();
    // Work lasting three lease lengths: only the heartbeat (every 100 ms) keeps the claim.
    const run = withLease(leases, 'deploy:1', { holder: 'h', ttlMs: 400 }, silentLogger, async () => {
      await new Promise((r) => setTimeout(r, 1_200));
      expect(await leases.tryAcquire('deploy:1', 'other', 400)).toBe(false);
      throw new Error('boom');
    });
    await expect(run).rejects.toThrow('boom');
    expect(await leases.tryAcquire('deploy:1', 'other', 400)).toBe(true);
  });
});
