import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthoritativeDnsPropagation } from '../../core/acme/authoritative-dns-propagation.ts';
import { CoreError } from '../../core/errors.ts';

const VALUE = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

// --- a minimal RFC 1035 server over UDP: enough for c-ares' NS, A, AAAA, CNAME and TXT queries ---

const TYPE = { A: 1, NS: 2, CNAME: 5, TXT: 16, AAAA: 28 } as const;

interface Reply {
  rcode?: number;
  answers?: Array<{ type: number; rdata: Buffer }>;
}
/** Answers a question; undefined means "stay silent". */
type Zone = (name: string, type: number) => Reply | undefined;

function readQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  for (let len = msg[offset]!; len !== 0; len = msg[offset]!) {
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('ascii'));
    offset += 1 + len;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(offset), end: offset + 4 };
}

function encodeName(name: string): Buffer {
  return Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

const rr = {
  a: (ip: string) => ({ type: TYPE.A, rdata: Buffer.from(ip.split('.').map(Number)) }),
  ns: (host: string) => ({ type: TYPE.NS, rdata: encodeName(host) }),
  cname: (host: string) => ({ type: TYPE.CNAME, rdata: encodeName(host) }),
  /** One TXT record made of the given character-strings. */
  txt: (...strings: string[]) => ({
    type: TYPE.TXT,
    rdata: Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]))),
  }),
};

function encodeReply(query: Buffer, reply: Reply): Buffer {
  const { end } = readQuestion(query);
  const answers = (reply.answers ?? []).map(({ type, rdata }) => {
    const head = Buffer.alloc(12);
    head.writeUInt16BE(0xc00c, 0); // pointer to the question name
    head.writeUInt16BE(type, 2);
    head.writeUInt16BE(1, 4); // class IN
    head.writeUInt32BE(0, 6); // TTL 0: nothing may be cached between polls
    head.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([head, rdata]);
  });
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR=1, AA=1, RD copied, RA=1, rcode.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (reply.rcode ?? 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

async function serveDns(address: string, port: number, zone: Zone): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const { name, type } = readQuestion(msg);
    const reply = zone(name, type);
    if (reply) socket.send(encodeReply(msg, reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

// --- the world: a recursive resolver, and authoritative servers at 127.0.0.1-3 sharing one port ---

/** What the recursive resolver knows (all names lower-case). */
const NS: Record<string, string[]> = {
  'example.test': ['ns1.example.test', 'ns2.example.test'],
  'three.test': ['ns3.example.test', 'ns1.example.test', 'ns2.example.test'],
  'partial.test': ['ns1.example.test', 'ns-dead.partial.test'],
  'dead.test': ['ns-dead.partial.test'],
  'target.test': ['ns1.example.test'],
  'ghost.test': ['ns.ghost.test'],
};
const A: Record<string, string> = {
  'ns1.example.test': '127.0.0.1',
  'ns2.example.test': '127.0.0.2',
  'ns3.example.test': '127.0.0.3',
  // Nothing listens there, so every query to it is refused.
  'ns-dead.partial.test': '127.0.0.4',
};
const CNAME: Record<string, string> = {
  '_acme-challenge.alias.example.test': '_acme-challenge.alias.target.test',
};
/** TXT as the recursive resolver (a stale cache, say) answers it; only the fallback may ever see these. */
const RESOLVER_TXT: Record<string, string[]> = {
  '_acme-challenge.now.example.test': ['resolver-cached'],
  '_acme-challenge.flat.test': [VALUE],
  '_acme-challenge.ghost.test': [VALUE],
  '_acme-challenge.notimp.test': [VALUE],
};

/**
 * TXT at the authoritative servers, per record name: given the server (1-3) and how many times that server
 * has been asked for the name (1-based), the values; null for NXDOMAIN.
 */
const AUTH_TXT: Record<string, (server: number, n: number) => string[] | null> = {
  '_acme-challenge.now.example.test': () => ['unrelated', VALUE],
  '_acme-challenge.later.example.test': (server, n) => (server === 2 && n <= 2 ? ['old-value'] : [VALUE]),
  '_acme-challenge.never.three.test': (server) => (server === 1 ? [VALUE] : server === 2 ? ['stale-value'] : null),
  '_acme-challenge.partial.test': () => [VALUE],
  '_acme-challenge.alias.target.test': () => [VALUE],
  '_acme-challenge.slowpoke.example.test': () => ['old-value'],
};

const recursiveQueries: string[] = [];
const authQueries: Array<{ server: number; name: string }> = [];

function knownName(name: string): boolean {
  return name in NS || name in A || name in CNAME || name in RESOLVER_TXT || name in AUTH_TXT;
}

const recursive: Zone = (name, type) => {
  recursiveQueries.push(`${type} ${name}`);
  if (name === 'silent.test' || name.endsWith('.silent.test')) return undefined;
  // Like pebble-challtestsrv, which answers NOTIMP to anything but A, AAAA, CNAME, TXT and CAA.
  if (name.endsWith('notimp.test') && type !== TYPE.TXT && type !== TYPE.CNAME) return { rcode: 4 };
  if (type === TYPE.CNAME && CNAME[name]) return { answers: [rr.cname(CNAME[name])] };
  if (type === TYPE.NS && NS[name]) return { answers: NS[name].map(rr.ns) };
  if (type === TYPE.A && A[name]) return { answers: [rr.a(A[name])] };
  if (type === TYPE.TXT && RESOLVER_TXT[name]) return { answers: RESOLVER_TXT[name].map((v) => rr.txt(v)) };
  return knownName(name) ? {} : { rcode: 3 };
};

function authoritative(server: number): Zone {
  return (name, type) => {
    if (type !== TYPE.TXT) return { rcode: 5 }; // REFUSED: these servers only serve the challenge TXT records
    authQueries.push({ server, name });
    const n = authQueries.filter((q) => q.server === server && q.name === name).length;
    const values = AUTH_TXT[name]?.(server, n);
    if (values === undefined || values === null) return { rcode: 3 };
    // The value is split across two character-strings, as a long TXT record would be.
    return { answers: values.map((v) => (v === VALUE ? rr.txt(v.slice(0, 20), v.slice(20)) : rr.txt(v))) };
  };
}

let sockets: dgram.Socket[] = [];
let resolver: string;
let authPort: number;
let closedPort: number;

beforeAll(async () => {
  const rec = await serveDns('127.0.0.1', 0, recursive);
  resolver = `127.0.0.1:${(rec.address() as AddressInfo).port}`;
  sockets.push(rec);
  // One port on three loopback addresses; retried in the unlikely case another process holds it.
  for (let attempt = 0; ; attempt += 1) {
    const first = await serveDns('127.0.0.1', 0, authoritative(1));
    authPort = (first.address() as AddressInfo).port;
    try {
      const rest = [
        await serveDns('127.0.0.2', authPort, authoritative(2)),
        await serveDns('127.0.0.3', authPort, authoritative(3)),
      ];
      sockets.push(first, ...rest);
      break;
    } catch (err) {
      first.close();
      if (attempt >= 5) throw err;
    }
  }
  const scratch = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => scratch.bind(0, '127.0.0.1', resolve));
  closedPort = (scratch.address() as AddressInfo).port;
  await new Promise<void>((resolve) => scratch.close(resolve));
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  sockets = [];
});

function fakeSleep() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

function propagation(sleep: (ms: number) => Promise<void>, resolvers = [resolver]) {
  return createAuthoritativeDnsPropagation({ resolvers, sleep, authoritativePort: authPort });
}

const at = (ip: string) => `${ip}:${authPort}`;

describe('createAuthoritativeDnsPropagation', () => {
  it('rejects a bad resolver list or port at construction', () => {
    expect(() => createAuthoritativeDnsPropagation({ resolvers: ['not an address'] })).toThrow(
      expect.objectContaining({ name: 'CoreError', code: 'config_invalid' }),
    );
    expect(() => createAuthoritativeDnsPropagation({ authoritativePort: 0 })).toThrow(CoreError);
    expect(() => createAuthoritativeDnsPropagation({ authoritativePort: 70_000 })).toThrow(CoreError);
  });
});

describe('waitForTxt', () => {
  it('is ok at once when every authoritative server has the value, and ignores the recursive answer', async () => {
    const { pauses, sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.now.example.test', VALUE, {
      timeoutMs: 10_000,
    });
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(
        `^TXT _acme-challenge\\.now\\.example\\.test: visible at 2 of 2 authoritative servers of example\\.test after 1 poll, \\d+ ms: ns1\\.example\\.test ${at('127.0.0.1')} has it, ns2\\.example\\.test ${at('127.0.0.2')} has it$`,
      ),
    );
    expect(pauses).toEqual([]);
    expect(result.waitedMs).toBeLessThan(2000);
    expect(recursiveQueries).not.toContain(`${TYPE.TXT} _acme-challenge.now.example.test`);
    expect(
      authQueries
        .filter((q) => q.name === '_acme-challenge.now.example.test')
        .map((q) => q.server)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('accepts a record name with a trailing dot and any case', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_ACME-Challenge.Now.Example.TEST.', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
  });

  it('polls until a lagging server catches up', async () => {
    const { pauses, sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.later.example.test', VALUE, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    expect(result.ok).toBe(true);
    expect(result.detail).toContain('visible at 2 of 2 authoritative servers of example.test after 3 polls');
    expect(pauses).toEqual([1000, 1000]);
    expect(result.waitedMs).toBeGreaterThanOrEqual(2000);
    expect(result.waitedMs).toBeLessThan(4000);
    expect(authQueries.filter((q) => q.name === '_acme-challenge.later.example.test' && q.server === 2)).toHaveLength(
      3,
    );
  });

  it('gives up after the bound, naming what each server returned', async () => {
    const { pauses, sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.never.three.test', VALUE, {
      timeoutMs: 5000,
      intervalMs: 2000,
    });
    expect(result.ok).toBe(false);
    // The last pause is what is left of the bound after the queries' own time.
    expect(pauses.slice(0, 2)).toEqual([2000, 2000]);
    expect(pauses).toHaveLength(3);
    expect(pauses[2]).toBeGreaterThan(900);
    expect(pauses[2]).toBeLessThanOrEqual(1000);
    expect(result.waitedMs).toBeGreaterThanOrEqual(5000);
    expect(result.waitedMs).toBeLessThan(7000);
    expect(result.detail).toMatch(
      new RegExp(
        `^TXT _acme-challenge\\.never\\.three\\.test: not visible at all authoritative servers of three\\.test after 4 polls, \\d+ ms: ` +
          `ns1\\.example\\.test ${at('127.0.0.1')} has it, ` +
          `ns2\\.example\\.test ${at('127.0.0.2')} returned "stale-value", ` +
          `ns3\\.example\\.test ${at('127.0.0.3')} answered NXDOMAIN \\(gave up\\)$`,
      ),
    );
  });

  it('checks once when the bound is zero', async () => {
    const { pauses, sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.slowpoke.example.test', VALUE, {
      timeoutMs: 0,
    });
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('after 1 poll');
    expect(result.detail).toContain('returned "old-value"');
    expect(pauses).toEqual([]);
  });

  it('really waits with the default sleep', async () => {
    const started = Date.now();
    const real = createAuthoritativeDnsPropagation({ resolvers: [resolver], authoritativePort: authPort });
    const result = await real.waitForTxt('_acme-challenge.slowpoke.example.test', VALUE, {
      timeoutMs: 300,
      intervalMs: 100,
    });
    expect(result.ok).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result.waitedMs).toBeGreaterThanOrEqual(300);
    expect(result.detail).toMatch(/after [4-9] polls/);
  });

  it('follows a CNAME to the zone that holds the record', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.alias.example.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(
        `^TXT _acme-challenge\\.alias\\.example\\.test via CNAME _acme-challenge\\.alias\\.target\\.test: visible at 1 of 1 authoritative servers of target\\.test after 1 poll, \\d+ ms: ns1\\.example\\.test ${at('127.0.0.1')} has it$`,
      ),
    );
  });

  it('does not let a server it cannot reach block, but names it', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.partial.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
    expect(result.detail).toContain('visible at 1 of 2 authoritative servers of partial.test');
    expect(result.detail).toContain(`ns-dead.partial.test ${at('127.0.0.4')} could not be asked (`);
  });

  it('is not ok when no authoritative server can be reached', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.dead.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(`not visible at all authoritative servers of dead.test after 1 poll`);
    expect(result.detail).toContain(`ns-dead.partial.test ${at('127.0.0.4')} could not be asked (`);
  });

  it('falls back to the resolvers when no NS set can be found, and says so', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.flat.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(
        `^TXT _acme-challenge\\.flat\\.test: visible at 1 of 1 resolvers after 1 poll, \\d+ ms: ${resolver} has it; ` +
          'no NS records found for _acme-challenge\\.flat\\.test or its parents, so asked the resolvers instead$',
      ),
    );
    // The walk asks each parent below the TLD, then not the TLD itself.
    expect(recursiveQueries).toContain(`${TYPE.NS} flat.test`);
    expect(recursiveQueries).not.toContain(`${TYPE.NS} test`);
  });

  it('asks every configured resolver in the fallback, and fails while one lacks the value', async () => {
    const { pauses, sleep } = fakeSleep();
    // The same server twice stands for two resolvers; then one without the name.
    const other = await serveDns('127.0.0.1', 0, (name) => (name === '_acme-challenge.flat.test' ? {} : { rcode: 3 }));
    sockets.push(other);
    const otherAddr = `127.0.0.1:${(other.address() as AddressInfo).port}`;
    const result = await propagation(sleep, [resolver, otherAddr]).waitForTxt('_acme-challenge.flat.test', VALUE, {
      timeoutMs: 2000,
      intervalMs: 1000,
    });
    expect(result.ok).toBe(false);
    expect(pauses).toHaveLength(2);
    expect(result.detail).toContain(`not visible at all resolvers after 3 polls`);
    expect(result.detail).toContain(`${resolver} has it, ${otherAddr} has no TXT records`);
    expect(result.detail).toContain('so asked the resolvers instead (gave up)');
  });

  it('falls back when the resolver does not implement NS queries (pebble-challtestsrv)', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.notimp.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
    expect(result.detail).toContain(
      `${resolver} has it; no NS records found for _acme-challenge.notimp.test or its parents`,
    );
  });

  it('falls back when the NS hosts have no address', async () => {
    const { sleep } = fakeSleep();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.ghost.test', VALUE, { timeoutMs: 0 });
    expect(result.ok).toBe(true);
    expect(result.detail).toContain(
      'no address for ns.ghost.test; no address for any NS host of ghost.test, so asked the resolvers instead',
    );
  });

  it('keeps trying while the resolver cannot be reached, then says why', async () => {
    const { pauses, sleep } = fakeSleep();
    const unreachable = `127.0.0.1:${closedPort}`;
    const result = await propagation(sleep, [unreachable]).waitForTxt('_acme-challenge.now.example.test', VALUE, {
      timeoutMs: 3000,
      intervalMs: 1000,
    });
    expect(result.ok).toBe(false);
    expect(pauses.length).toBeGreaterThanOrEqual(1);
    expect(result.detail).toBe(
      `TXT _acme-challenge.now.example.test: could not look up CNAME _acme-challenge.now.example.test: could not reach the server (ECONNREFUSED) (asked ${unreachable}) (gave up)`,
    );
  });

  it('bounds a resolver that never answers (each query gets at least a second)', async () => {
    const { sleep } = fakeSleep();
    const started = Date.now();
    const result = await propagation(sleep).waitForTxt('_acme-challenge.silent.test', VALUE, {
      timeoutMs: 400,
      intervalMs: 1000,
    });
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['', VALUE, 'invalid record name ""'],
    ['_acme-challenge.now.example.test', '', 'TXT _acme-challenge.now.example.test: the expected value is empty'],
  ])('answers bad input (%j, %j) without throwing', async (name, value, detail) => {
    const { sleep } = fakeSleep();
    expect(await propagation(sleep).waitForTxt(name, value)).toEqual({ ok: false, detail, waitedMs: 0 });
  });

  it('never throws, even when the injected sleep does', async () => {
    const result = await propagation(async () => {
      throw new Error('clock broke');
    }).waitForTxt('_acme-challenge.slowpoke.example.test', VALUE, { timeoutMs: 5000 });
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      'TXT _acme-challenge.slowpoke.example.test: propagation check failed unexpectedly: clock broke',
    );
  });
});
