import { describe, expect, it } from 'vitest';
import { ChallengeCache, type ChallengeSource } from '../../responder/challenge-cache.ts';

/** A source whose table, notifications and timing the test controls. */
function fakeSource() {
  const table = new Map<string, string>();
  let onToken: ((t: string) => void) | undefined;
  let onResync: (() => void) | undefined;
  let onLost: ((err: unknown) => void) | undefined;
  let gate: Promise<void> | undefined;
  /** While set, every read fails with it (the database is away). */
  let down: Error | undefined;
  const events: string[] = [];
  const source: ChallengeSource = {
    all: async () => {
      events.push('all');
      if (down) throw down;
      const snapshot = [...table].map(([token, keyAuthorization]) => ({
        token,
        keyAuthorization,
        domain: 'www.example.com',
      }));
      await gate;
      return snapshot;
    },
    one: async (token) => {
      if (down) throw down;
      const keyAuthorization = table.get(token);
      return keyAuthorization ? { keyAuthorization, domain: 'www.example.com' } : null;
    },
    listen: async (t, r, l) => {
      events.push('listen');
      onToken = t;
      onResync = r;
      onLost = l;
      return async () => {
        events.push('unlisten');
      };
    },
  };
  return {
    source,
    table,
    events,
    notify: (token: string) => onToken!(token),
    resync: () => onResync!(),
    lose: (err = new Error('Connection terminated unexpectedly')) => onLost!(err),
    setDown: (err: Error | undefined) => {
      down = err;
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ChallengeCache', () => {
  it('subscribes before the first load, so nothing written in between is missed', async () => {
    const f = fakeSource();
    f.table.set('tok', 'tok.ka');
    const cache = new ChallengeCache(f.source);
    await cache.start();
    expect(f.events.slice(0, 2)).toEqual(['listen', 'all']);
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');
    await cache.stop();
    expect(f.events).toContain('unlisten');
  });

  it('adds and removes tokens on notification without a full reload', async () => {
    const f = fakeSource();
    const cache = new ChallengeCache(f.source);
    await cache.start();
    f.table.set('new', 'new.ka');
    f.notify('new');
    await tick();
    expect(cache.get('new')?.keyAuthorization).toBe('new.ka');
    f.table.delete('new');
    f.notify('new');
    await tick();
    expect(cache.get('new')).toBeNull();
    expect(f.events.filter((e) => e === 'all')).toHaveLength(1);
    await cache.stop();
  });

  it('does not let a slow full reload undo a change notified while it ran', async () => {
    const f = fakeSource();
    const cache = new ChallengeCache(f.source);
    await cache.start();
    const release = f.hold();
    const reloading = cache.reload(); // snapshot taken now: without "late"
    f.table.set('late', 'late.ka');
    f.notify('late');
    await tick();
    release();
    await reloading;
    expect(cache.get('late')?.keyAuthorization).toBe('late.ka');
    await cache.stop();
  });

  it('reloads everything when notifications may have been missed', async () => {
    const f = fakeSource();
    const cache = new ChallengeCache(f.source);
    await cache.start();
    f.table.set('missed', 'missed.ka');
    f.resync();
    await tick();
    expect(cache.get('missed')?.keyAuthorization).toBe('missed.ka');
    await cache.stop();
  });

  it('reports a failing refresh and keeps serving what it has', async () => {
    const f = fakeSource();
    f.table.set('tok', 'tok.ka');
    const errors: unknown[] = [];
    const cache = new ChallengeCache(
      { ...f.source, one: async () => Promise.reject(new Error('db down')) },
      { onError: (e) => errors.push(e) },
    );
    await cache.start();
    f.notify('tok');
    await tick();
    expect(errors).toHaveLength(1);
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');
    await cache.stop();
  });
});

describe('ChallengeCache through a database outage (decision 0006: serve what it has; 0013: say so)', () => {
  const at = new Date('2026-03-01T10:00:00.000Z');

  it('turns stale when the subscription drops, keeps answering, and is fresh again only after the resync reload', async () => {
    const f = fakeSource();
    f.table.set('tok', 'tok.ka');
    const health: string[] = [];
    const cache = new ChallengeCache(f.source, {
      now: () => at,
      onHealth: (h) => health.push(h.fresh ? 'fresh' : 'stale'),
    });
    await cache.start();
    expect(cache.health()).toEqual({ fresh: true });

    f.setDown(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    f.lose();
    expect(cache.health()).toEqual({ fresh: false, since: at, reason: 'Connection terminated unexpectedly' });
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');
    // A periodic reload while the subscription is down fails and changes nothing it holds.
    await expect(cache.reload()).rejects.toThrow('ECONNREFUSED');
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');

    // Back: a reload before the resync cannot vouch for changes missed meanwhile.
    f.setDown(undefined);
    f.table.set('missed', 'missed.ka');
    await cache.reload();
    expect(cache.health().fresh).toBe(false);
    f.resync();
    await tick();
    expect(cache.health()).toEqual({ fresh: true });
    expect(cache.get('missed')?.keyAuthorization).toBe('missed.ka');
    expect(health).toEqual(['stale', 'fresh']);
    await cache.stop();
  });

  it('a failed read with the subscription up marks it stale and retries until a reload succeeds', async () => {
    const f = fakeSource();
    const cache = new ChallengeCache(f.source, { staleRetryMs: 5 });
    await cache.start();
    f.setDown(new Error('Connection terminated unexpectedly'));
    f.notify('tok');
    await tick();
    expect(cache.health().fresh).toBe(false);
    f.table.set('tok', 'tok.ka');
    f.setDown(undefined);
    for (let i = 0; i < 100 && !cache.health().fresh; i++) await tick();
    expect(cache.health()).toEqual({ fresh: true });
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');
    await cache.stop();
  });

  it('markStale (a failed readiness probe) keeps the first since', async () => {
    const f = fakeSource();
    let now = at;
    const cache = new ChallengeCache(f.source, { now: () => now, staleRetryMs: 60_000 });
    await cache.start();
    cache.markStale(new Error('the database did not answer'));
    now = new Date(at.getTime() + 5_000);
    cache.markStale(new Error('again'));
    expect(cache.health()).toEqual({ fresh: false, since: at, reason: 'the database did not answer' });
    await cache.reload();
    expect(cache.health()).toEqual({ fresh: true });
    await cache.stop();
  });
});

describe('ChallengeCache.answer binds a token to its domain', () => {
  it.each([
    ['www.example.com', true],
    ['WWW.Example.COM', true],
    ['www.example.com:5002', true],
    ['www.example.com.', true],
    ['other.example.com', false],
    ['www.example.com.evil.test', false],
    [undefined, false],
  ])('Host %j → answered %s', async (host, answered) => {
    const f = fakeSource();
    f.table.set('tok', 'tok.ka');
    const cache = new ChallengeCache(f.source);
    await cache.start();
    expect(cache.answer('tok', host)).toBe(answered ? 'tok.ka' : null);
    expect(cache.answer('unknown', host)).toBeNull();
    await cache.stop();
  });
});
