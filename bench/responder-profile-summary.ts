/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`) of the responder under load: self time by function and
 * by area (node:http internals, our responder code, GC, idle/epoll, …), and total (inclusive) time of the
 * responder's own functions. Counts only the window under load (first to last sample inside the responder).
 *
 *   npx tsx bench/responder-profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: responder-profile-summary.ts FILE.cpuprofile [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Whether a node's stack (it or any caller) is in our responder code: marks samples taken while serving. */
const inOurs = (id: number): boolean => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    if (/\/responder\/|\/bench\/responder/.test(byId.get(cur)?.callFrame.url ?? '')) return true;
  }
  return false;
};
// Only the window under load: from the first to the last sample inside the request handler (drops module
// loading at start and the idle tail), so the shares describe serving.
let first = profile.samples.length;
let last = -1;
for (let i = 0; i < profile.samples.length; i++) {
  if (inOurs(profile.samples[i] as number)) {
    first = Math.min(first, i);
    last = i;
  }
}
if (last < 0) throw new Error('no sample inside the responder: was it under load?');

/** Self time per node, in µs (each sample's time is the delta to the next one). */
const self = new Map<number, number>();
for (let i = first; i <= last; i++) {
  const id = profile.samples[i] as number;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function short(url: string): string {
  return url.replace(/^file:\/\/.*?\/work\/main\//, '').replace(/^node:/, 'node:');
}

function area(f: CallFrame): string {
  const { functionName: fn, url } = f;
  if (fn === '(idle)') return 'idle (epoll wait: the server had nothing to do)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native outside JS (program)';
  if (url.includes('/responder/') || url.includes('/bench/responder')) return 'our responder code';
  if (url.includes('node_modules/'))
    return `dependency: ${url
      .split('node_modules/')[1]
      ?.split('/')
      .slice(0, url.includes('@') ? 2 : 1)
      .join('/')}`;
  if (url.startsWith('node:') || url === '') {
    if (/_http_server|_http_common|_http_incoming|_http_outgoing|^node:http$/.test(url))
      return 'node:http (parser, IncomingMessage, ServerResponse)';
    if (/net|stream|internal\/streams|stream_base_commons/.test(url))
      return 'node:net / streams (socket reads and writes)';
    if (fn === 'writev' || fn === 'writeUtf8String' || fn === 'writeBuffer' || fn === 'writeLatin1String')
      return 'node:net / streams (socket reads and writes)';
    if (fn === 'execute' || fn === 'onStreamRead' || fn === 'readStop' || fn === 'readStart')
      return 'node:http (parser, IncomingMessage, ServerResponse)';
    if (/events|timers|async_hooks|task_queues|process/.test(url)) return 'node: events, timers, nextTick';
    if (/^RegExp: /.test(fn)) return 'node: regular expressions (header validation, our token and Host checks)';
    return 'node: other';
  }
  return `other ${short(url)}`;
}

const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id);
  if (!n) continue;
  const a = area(n.callFrame);
  areas.set(a, (areas.get(a) ?? 0) + t);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + t);
}

/** Inclusive time of nodes whose frame is in our responder code (counted once per sample, outermost only). */
const ours = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)?.callFrame;
    if (f && (f.url.includes('/responder/') || f.url.includes('/bench/responder'))) {
      const key = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        ours.set(key, (ours.get(key) ?? 0) + t);
      }
    }
  }
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`;
const busy = total - (areas.get('idle (epoll wait: the server had nothing to do)') ?? 0);
console.log(
  `profile ${file}: ${(total / 1e6).toFixed(2)} s under load (samples ${first}–${last} of ${profile.samples.length}), busy ${pct(busy)}`,
);
console.log('\n| Area (self time) | % of samples | % of busy |\n|---|---|---|');
for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1])) {
  if (t / total < 0.001) continue;
  console.log(`| ${a} | ${pct(t)} | ${a.startsWith('idle') ? '–' : `${((100 * t) / busy).toFixed(1)}%`} |`);
}
console.log(`\n| Top functions (self time) | % |\n|---|---|`);
for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top)))
  console.log(`| \`${f}\` | ${pct(t)} |`);
console.log(`\n| Our responder code (inclusive: itself and everything it calls) | % |\n|---|---|`);
for (const [f, t] of [...ours].sort((x, y) => y[1] - x[1]).slice(0, 10)) console.log(`| \`${f}\` | ${pct(t)} |`);
