import { describe, expect, it } from 'vitest';
import { ChallengeCache, type ChallengeSource } from '../../responder/challenge-cache.ts';

/** A source whose table, notifications and timing the test controls. */
function fakeSource() {
  const table = new Map<string, string>();
  let onToken: ((t: string) => void) | undefined;
  let onResync: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const events: string[] = [];
  const source: ChallengeSource = {
    all: async () => {
      events.push('all');
      const snapshot = [...table].map(([token, keyAuthorization]) => ({ token, keyAuthorization, domain: 'www.example.com' }));
      await gate;
      return snapshot;
    },
    one: async (token) => {
      const keyAuthorization = table.get(token);
      return keyAuthorization ? { keyAuthorization, domain: 'www.example.com' } : null;
    },
    listen: async (t, r) => {
      events.push('listen');
      onToken = t;
      onResync = r;
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
    const cache = new ChallengeCache({ ...f.source, one: async () => Promise.reject(new Error('db down')) }, { onError: (e) => errors.push(e) });
    await cache.start();
    f.notify('tok');
    await tick();
    expect(errors).toHaveLength(1);
    expect(cache.get('tok')?.keyAuthorization).toBe('tok.ka');
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
