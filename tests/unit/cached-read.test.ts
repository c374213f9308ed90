import { describe, expect, it } from 'vitest';
import { CachedRead } from '../../core/monitoring/cached-read.ts';

function fakeClock(start = 0) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

describe('CachedRead: scrape-time reads behind a short cache', () => {
  it('shares one read between callers within maxAge and reads again after it', async () => {
    const clock = fakeClock();
    let reads = 0;
    const cached = new CachedRead(async () => ++reads, { maxAgeMs: 1_000, timeoutMs: 1_000, clock });
    const [a, b] = await Promise.all([cached.get(), cached.get()]);
    expect([a, b]).toEqual([
      { value: 1, stale: false },
      { value: 1, stale: false },
    ]);
    clock.advance(999);
    expect(await cached.get()).toEqual({ value: 1, stale: false });
    clock.advance(1);
    expect(await cached.get()).toEqual({ value: 2, stale: false });
    expect(reads).toBe(2);
  });

  it('a failed read answers the last value as stale, is not retried within maxAge, and clears once a read works', async () => {
    const clock = fakeClock();
    let fail = false;
    let reads = 0;
    const errors: unknown[] = [];
    const cached = new CachedRead(
      async () => {
        reads++;
        if (fail) throw new Error('database down');
        return 'fresh';
      },
      { maxAgeMs: 1_000, timeoutMs: 1_000, clock, onError: (e) => errors.push(e) },
    );
    expect(await cached.get()).toEqual({ value: 'fresh', stale: false });
    fail = true;
    clock.advance(1_000);
    expect(await cached.get()).toEqual({ value: 'fresh', stale: true });
    expect(await cached.get()).toEqual({ value: 'fresh', stale: true });
    expect(reads).toBe(2);
    expect(errors).toHaveLength(1);
    fail = false;
    clock.advance(1_000);
    expect(await cached.get()).toEqual({ value: 'fresh', stale: false });
  });

  it('before any read worked, a failure answers no value, stale', async () => {
    const cached = new CachedRead(
      async () => {
        throw new Error('down');
      },
      { maxAgeMs: 1_000, timeoutMs: 1_000, clock: fakeClock() },
    );
    expect(await cached.get()).toEqual({ value: null, stale: true });
  });

  it('a read that does not answer in time gives the last value as stale; when it lands, the cache has it', async () => {
    const clock = fakeClock();
    let release: (v: string) => void = () => {};
    let slow = false;
    const cached = new CachedRead(
      () => (slow ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve('first')),
      { maxAgeMs: 1_000, timeoutMs: 20, clock },
    );
    expect(await cached.get()).toEqual({ value: 'first', stale: false });
    slow = true;
    clock.advance(1_000);
    expect(await cached.get()).toEqual({ value: 'first', stale: true });
    release('second');
    await new Promise((r) => setImmediate(r));
    expect(await cached.get()).toEqual({ value: 'second', stale: false });
  });
});
