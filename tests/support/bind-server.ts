/**
 * Test harness: a real BIND 9 (`named` from Debian's bind9 package) on a free port of 127.0.0.1, serving
 * throwaway zones from a temp dir that take RFC 2136 updates signed with the given TSIG keys. Suites that need
 * it use {@link describeWithBind}: it skips with a visible notice when `named` is missing, and fails instead
 * when REQUIRE_BIND is set (as `.ci/run` does).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { freeTcpUdpPort, retryWhenAddressInUse, saysAddressInUse } from './free-port.ts';

export interface BindKey {
  name: string;
  algorithm: 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
  /** Base64; a fresh random 32 bytes when absent. */
  secret?: string;
}

export interface BindZone {
  /** e.g. `example.test`; its SOA and NS (`ns1.<zone>` at 127.0.0.1) are written for it. */
  name: string;
  /** More zone file lines, relative to the zone (`www IN A 127.0.0.1`). */
  records?: string[];
  /** The zone's update rule, BIND syntax inside the braces: `allow-update { key "k"; };` by default. */
  updateRule?: string;
}

export interface BindOptions {
  keys: BindKey[];
  zones: BindZone[];
}

export interface BindHandle {
  /** `127.0.0.1:<port>`: what the RFC 2136 settings, Pebble's `-dnsserver` and the resolvers take. */
  server: string;
  port: number;
  /** The keys with their secrets (generated ones filled in). */
  keys: Required<BindKey>[];
  /** The TXT values of `name` as BIND answers them now (empty when none). */
  txt(name: string): Promise<string[]>;
  /** Runs `nsupdate` (a real BIND client) with the given commands, signed with `key`. */
  nsupdate(key: Required<BindKey>, commands: string[]): Promise<void>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const NAMED = 'named';
const READY_TIMEOUT_MS = 10_000;

function onPath(bin: string): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, bin), fs.constants.X_OK);
      return path.join(dir, bin);
    } catch {
      // keep looking
    }
  }
  return null;
}

export function bindAvailable(): boolean {
  return onPath(NAMED) !== null && onPath('nsupdate') !== null;
}

const live = new Set<ChildProcess>();
let exitHook = false;

function zoneFile(zone: BindZone): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone.name}. hostmaster.${zone.name}. 1 60 60 600 60`,
    `@ IN NS ns1.${zone.name}.`,
    'ns1 IN A 127.0.0.1',
    ...(zone.records ?? []),
    '',
  ].join('\n');
}

async function startOnce(opts: BindOptions): Promise<BindHandle> {
  const named = onPath(NAMED);
  if (!named) throw new Error('named not found (apt-get install bind9 bind9-dnsutils)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bind-'));
  const port = await freeTcpUdpPort();
  const keys = opts.keys.map((k) => ({ ...k, secret: k.secret ?? randomBytes(32).toString('base64') }));
  const conf = [
    'options {',
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    `  pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key";`,
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    'controls { };',
    ...keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`),
    ...opts.zones.map((z) => {
      fs.writeFileSync(path.join(dir, `${z.name}.zone`), zoneFile(z));
      const rule = z.updateRule ?? `allow-update { key "${keys[0]?.name}"; };`;
      return `zone "${z.name}" { type primary; file "${dir}/${z.name}.zone"; ${rule} };`;
    }),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'named.conf'), conf);

  const tail: string[] = [];
  const child = spawn(named, ['-g', '-c', path.join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  for (const s of [child.stdout, child.stderr]) {
    s?.setEncoding('utf8');
    s?.on('data', (chunk: string) => {
      tail.push(...chunk.split('\n').filter(Boolean));
      if (tail.length > 300) tail.splice(0, tail.length - 300);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const resolver = () => {
    const r = new dns.promises.Resolver({ timeout: 1_000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    return r;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const firstZone = opts.zones[0]?.name ?? '.';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      const log = tail.join('\n');
      throw new Error(`named exited during start-up${saysAddressInUse(log) ? ' (EADDRINUSE)' : ''}:\n${log}`);
    }
    try {
      await resolver().resolveSoa(firstZone);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`named not answering on port ${port} after ${READY_TIMEOUT_MS} ms:\n${tail.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    server: `127.0.0.1:${port}`,
    port,
    keys,
    async txt(name) {
      try {
        return (await resolver().resolveTxt(name)).map((chunks) => chunks.join(''));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
        throw err;
      }
    },
    nsupdate(key, commands) {
      const script = [`server 127.0.0.1 ${port}`, ...commands, 'send', ''].join('\n');
      return new Promise((resolve, reject) => {
        const proc = execFile(
          'nsupdate',
          ['-y', `${key.algorithm}:${key.name}:${key.secret}`],
          { timeout: 10_000 },
          (err, _stdout, stderr) => (err ? reject(new Error(`nsupdate failed: ${stderr || err.message}`)) : resolve()),
        );
        proc.stdin?.end(script);
      });
    },
    logTail: (lines = 40) => tail.slice(-lines).join('\n'),
    stop,
  };
}

/** Starts BIND; a port taken between picking and binding is picked again. */
export function startBind(opts: BindOptions): Promise<BindHandle> {
  return retryWhenAddressInUse(() => startOnce(opts));
}

let noticeShown = false;

/** `describe` when BIND is installed; otherwise skipped with a notice, or an error when REQUIRE_BIND is set. */
export function describeWithBind(name: string, fn: () => void): void {
  if (bindAvailable()) {
    describe(name, fn);
    return;
  }
  const msg = 'named/nsupdate not found (apt-get install bind9 bind9-dnsutils)';
  if (process.env['REQUIRE_BIND']) throw new Error(`REQUIRE_BIND is set but ${msg}`);
  if (!noticeShown) {
    noticeShown = true;
    console.warn(`\n*** SKIPPING BIND suites: ${msg}. Set REQUIRE_BIND=1 to make this an error. ***\n`);
  }
  describe.skip(`${name} (skipped: BIND not installed)`, fn);
}

/** Inside a describe block: BIND started in beforeAll, stopped in afterAll; returns a getter for the handle. */
export function useBind(opts: BindOptions): () => BindHandle {
  let handle: BindHandle | undefined;
  beforeAll(async () => {
    handle = await startBind(opts);
  }, 20_000);
  afterAll(async () => {
    await handle?.stop();
  });
  return () => {
    if (!handle) throw new Error('BIND is not running (useBind outside a describe block?)');
    return handle;
  };
}
