import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOKEN_LIFETIME_MS,
  createSession,
  tokenLifetimeMs,
  tokenRenewAt,
} from '../../core/bigip/icontrol-session.ts';
import type { Transport, WireOutcome, WireRequest } from '../../core/bigip/icontrol-transport.ts';
import type { CoreError } from '../../core/errors.ts';

const PASSWORD = 'Walrus-Tangerine-4471!';

function answer(status: number, body: unknown): WireOutcome {
  return { status, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)), truncated: false };
}

function loginAnswer(token: string, timeout = 1200): WireOutcome {
  const now = 1_700_000_000_000_000;
  return answer(200, {
    username: 'admin',
    token: {
      token,
      timeout,
      lastUpdateMicros: now,
      expirationMicros: now + timeout * 1_000_000,
      startTime: '2023-11-14T22:13:20Z',
    },
  });
}

/** A transport answering from a handler; records every request. */
function fakeTransport(handler: (req: WireRequest, n: number) => WireOutcome | Promise<WireOutcome>) {
  const seen: WireRequest[] = [];
  let destroyed = false;
  const transport: Transport = {
    host: 'bigip.test',
    timeoutMs: 1000,
    async send(req) {
      seen.push(req);
      return handler(req, seen.length);
    },
    destroy() {
      destroyed = true;
    },
  };
  return { transport, seen, destroyed: () => destroyed };
}

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const logins = (seen: WireRequest[]) => seen.filter((r) => r.path === '/mgmt/shared/authn/login').length;

describe('token lifetime', () => {
  it('measures on the device clock when expirationMicros and lastUpdateMicros are given', () => {
    // The device clock is a year off; only the difference counts.
    expect(
      tokenLifetimeMs(
        { lastUpdateMicros: 1_600_000_000_000_000, expirationMicros: 1_600_001_200_000_000 },
        1_700_000_000_000,
      ),
    ).toBe(1_200_000);
  });
  it('uses startTime when lastUpdateMicros is absent', () => {
    const start = Date.parse('2024-01-01T00:00:00Z');
    expect(tokenLifetimeMs({ startTime: '2024-01-01T00:00:00Z', expirationMicros: (start + 600_000) * 1000 }, 0)).toBe(
      600_000,
    );
  });
  it('falls back to timeout seconds, then expiration against the local clock, then the default', () => {
    expect(tokenLifetimeMs({ timeout: 300 }, 0)).toBe(300_000);
    expect(tokenLifetimeMs({ timeout: '300' }, 0)).toBe(300_000);
    expect(tokenLifetimeMs({ expirationMicros: 5_000_000_000 }, 4_000_000)).toBe(1_000_000);
    expect(tokenLifetimeMs({}, 0)).toBe(DEFAULT_TOKEN_LIFETIME_MS);
  });
  it('never goes negative or beyond ten hours', () => {
    expect(tokenLifetimeMs({ timeout: -5 }, 0)).toBe(0);
    expect(tokenLifetimeMs({ timeout: 10 ** 9 }, 0)).toBe(36_000_000);
  });
  it('renews 60 s early, or at half of a short lifetime', () => {
    expect(tokenRenewAt(0, 1_200_000)).toBe(1_140_000);
    expect(tokenRenewAt(0, 30_000)).toBe(15_000);
  });
});

describe('iControl session', () => {
  it('logs in once for concurrent calls and sends the token', async () => {
    const { transport, seen } = fakeTransport(async (req) => {
      if (req.path === '/mgmt/shared/authn/login') {
        await new Promise((r) => setTimeout(r, 20));
        return loginAnswer('TOKEN1');
      }
      return answer(200, { ok: req.headers['X-F5-Auth-Token'] });
    });
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    const results = await Promise.all(
      [1, 2, 3].map(() => session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' })),
    );
    expect(results.map((r) => r.json)).toEqual([{ ok: 'TOKEN1' }, { ok: 'TOKEN1' }, { ok: 'TOKEN1' }]);
    expect(logins(seen)).toBe(1);
    const login = seen[0]!;
    expect(JSON.parse(login.body!.toString())).toEqual({
      username: 'admin',
      password: PASSWORD,
      loginProviderName: 'tmos',
    });
    expect(login.headers['Authorization']).toBeUndefined();
    expect(session.mode()).toBe('token');
  });

  it('logs in again 60 s before the token expires', async () => {
    let n = 0;
    const { transport, seen } = fakeTransport((req) =>
      req.path === '/mgmt/shared/authn/login'
        ? loginAnswer(`TOKEN${++n}`)
        : answer(200, { ok: req.headers['X-F5-Auth-Token'] }),
    );
    const clock = fakeClock();
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, clock);
    const read = () => session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' });
    expect((await read()).json).toEqual({ ok: 'TOKEN1' });
    clock.advance(1_139_000);
    expect((await read()).json).toEqual({ ok: 'TOKEN1' });
    clock.advance(1_000);
    expect((await read()).json).toEqual({ ok: 'TOKEN2' });
    expect(logins(seen)).toBe(2);
  });

  it('re-logs in once and retries a request that got 401', async () => {
    let n = 0;
    const { transport, seen } = fakeTransport((req) => {
      if (req.path === '/mgmt/shared/authn/login') return loginAnswer(`TOKEN${++n}`);
      if (req.headers['X-F5-Auth-Token'] === 'TOKEN1')
        return answer(401, { code: 401, message: 'X-F5-Auth-Token has expired.' });
      return answer(200, { ok: req.headers['X-F5-Auth-Token'] });
    });
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    expect(
      (await session.call({ method: 'POST', path: '/mgmt/tm/sys/config', action: 'save', json: { command: 'save' } }))
        .json,
    ).toEqual({ ok: 'TOKEN2' });
    expect(seen.map((r) => r.path)).toEqual([
      '/mgmt/shared/authn/login',
      '/mgmt/tm/sys/config',
      '/mgmt/shared/authn/login',
      '/mgmt/tm/sys/config',
    ]);
  });

  it('gives up with bigip_auth when the retried request gets 401 again', async () => {
    let n = 0;
    const { transport, seen } = fakeTransport((req) =>
      req.path === '/mgmt/shared/authn/login'
        ? loginAnswer(`TOKEN${++n}`)
        : answer(401, { code: 401, message: 'X-F5-Auth-Token does not exist.' }),
    );
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    await expect(session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' })).rejects.toMatchObject({
      code: 'bigip_auth',
    });
    expect(logins(seen)).toBe(2);
    expect(seen).toHaveLength(4);
  });

  it('falls back to Basic auth when token login is refused but Basic works', async () => {
    const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const { transport, seen } = fakeTransport((req) => {
      if (req.path === '/mgmt/shared/authn/login') return answer(401, { code: 401, message: 'Authentication failed.' });
      return req.headers['Authorization'] === basic ? answer(200, { kind: 'ok' }) : answer(401, {});
    });
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    await session.call({ method: 'GET', path: '/mgmt/tm/ltm/virtual', action: 'list' });
    await session.call({ method: 'GET', path: '/mgmt/tm/ltm/virtual', action: 'list' });
    expect(session.mode()).toBe('basic');
    expect(seen.map((r) => r.path)).toEqual([
      '/mgmt/shared/authn/login',
      '/mgmt/tm/sys',
      '/mgmt/tm/ltm/virtual',
      '/mgmt/tm/ltm/virtual',
    ]);
    expect(seen[2]!.headers['X-F5-Auth-Token']).toBeUndefined();
  });

  it("throws the login's bigip_auth when Basic auth is refused too", async () => {
    const { transport } = fakeTransport((req) =>
      req.path === '/mgmt/shared/authn/login'
        ? answer(401, {
            code: 401,
            message: 'Authentication failed.',
            originalRequestBody: `{"password":"${PASSWORD}"}`,
          })
        : { status: 401, body: Buffer.from('<html><title>401 Unauthorized</title></html>'), truncated: false },
    );
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    const err = (await session
      .call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' })
      .catch((e: unknown) => e)) as CoreError;
    expect(err.code).toBe('bigip_auth');
    expect(err.message).toMatch(
      /log in as "admin" on BIG-IP bigip\.test failed: credentials refused \(HTTP 401\): Authentication failed\./,
    );
    expect(err.detail).toMatchObject({ status: 401, request: 'POST /mgmt/shared/authn/login' });
    expect(`${err.message}${JSON.stringify(err.detail)}${String(err.cause)}`).not.toContain(PASSWORD);
  });

  it('does not try Basic auth while the device is restarting', async () => {
    const { transport, seen } = fakeTransport(() =>
      answer(503, { code: 503, message: 'Configuration Utility restarting...' }),
    );
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    await expect(session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' })).rejects.toMatchObject({
      code: 'bigip_busy',
      retryable: true,
    });
    expect(seen).toHaveLength(1);
  });

  it('reports a 2xx that is not JSON', async () => {
    const { transport } = fakeTransport((req) =>
      req.path === '/mgmt/shared/authn/login'
        ? loginAnswer('T')
        : { status: 200, body: Buffer.from('<html>'), truncated: false },
    );
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    await expect(session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' })).rejects.toMatchObject({
      code: 'bigip_api',
      message: expect.stringMatching(/not JSON/),
    });
  });

  it('logs out on close, never throws, and closes the connections', async () => {
    const { transport, seen, destroyed } = fakeTransport((req) => {
      if (req.path === '/mgmt/shared/authn/login') return loginAnswer('TOKEN1');
      if (req.method === 'DELETE') return { error: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) };
      return answer(200, {});
    });
    const session = createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock());
    await session.call({ method: 'GET', path: '/mgmt/tm/sys', action: 'read' });
    await expect(session.close()).resolves.toBeUndefined();
    expect(seen.at(-1)).toMatchObject({
      method: 'DELETE',
      path: '/mgmt/shared/authz/tokens/TOKEN1',
      headers: expect.objectContaining({ 'X-F5-Auth-Token': 'TOKEN1' }),
    });
    expect(destroyed()).toBe(true);
  });

  it('closes quietly without a session', async () => {
    const { transport, seen } = fakeTransport(() => answer(200, {}));
    await expect(
      createSession(transport, { username: 'admin', password: PASSWORD }, fakeClock()).close(),
    ).resolves.toBeUndefined();
    expect(seen).toHaveLength(0);
  });
});
