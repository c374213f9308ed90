import { describe, expect, it } from 'vitest';
import { NoncePool } from '../../core/acme/nonce-pool.ts';

describe('NoncePool', () => {
  it('hands out the newest nonce first, each once', () => {
    const pool = new NoncePool();
    pool.put('a');
    pool.put('b');
    expect(pool.take()).toBe('b');
    expect(pool.take()).toBe('a');
    expect(pool.take()).toBeUndefined();
  });

  it('ignores answers without a nonce', () => {
    const pool = new NoncePool();
    pool.put(undefined);
    pool.put('');
    expect(pool.size).toBe(0);
  });

  it('drops the oldest when full', () => {
    const pool = new NoncePool({ capacity: 2 });
    for (const n of ['a', 'b', 'c']) pool.put(n);
    expect([pool.take(), pool.take(), pool.take()]).toEqual(['c', 'b', undefined]);
  });

  it('skips nonces older than maxAgeMs', () => {
    let now = 0;
    const pool = new NoncePool({ maxAgeMs: 1000, now: () => now });
    pool.put('old');
    now = 900;
    pool.put('young');
    now = 1500;
    expect(pool.take()).toBe('young');
    expect(pool.take()).toBeUndefined();
  });

  it('claims one particular nonce, once', () => {
    const pool = new NoncePool();
    pool.put('a');
    pool.put('fresh');
    expect(pool.claim('fresh')).toBe(true);
    expect(pool.claim('fresh')).toBe(false);
    expect(pool.claim(undefined)).toBe(false);
    expect(pool.take()).toBe('a');
  });
});
