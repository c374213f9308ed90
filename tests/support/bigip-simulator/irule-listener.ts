/**
 * A plain-HTTP listener playing one virtual server's data plane for HTTP-01 (`reference/bigip-icontrol.md`
 * §8, kojot-acme `acme.rule`). For each request it walks the virtual server's attached iRules (read live from
 * the state); the first one whose TCL handles `/.well-known/acme-challenge/` and does `class lookup|match` on a
 * data group answers: lower-cased URI (or path, when the rule takes the token from `[HTTP::path]`) starts with
 * the prefix → token = the rest after its first 28 characters → found: 200 text/plain with the exact record
 * data and `Cache-Control: no-store`; not found: 503 with a small HTML page. A data group that does not exist
 * is a TCL runtime error: the connection is reset. Any other request (no such rule, other path) reaches the
 * "pool": 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveReference, splitFullPath } from './paths.ts';
import type { SimulatorState } from './state.ts';

export const ACME_PREFIX = '/.well-known/acme-challenge/';

const NOT_FOUND_HTML =
  '<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1><p>ACME challenge not found.</p></body></html>\n';
const POOL_404 = '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n';

/** The text of the TCL command starting at `from` up to its closing `]` (nested brackets kept). */
function commandText(source: string, from: number): string {
  let depth = 0;
  let i = from;
  for (; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (c === '[') depth += 1;
    else if (c === ']') {
      if (depth === 0) break;
      depth -= 1;
    } else if ((c === '\n' || c === ';') && depth === 0) break;
  }
  return source.slice(from, i);
}

/**
 * The data group an ACME iRule looks tokens up in: the last plain word of its first `class lookup …` or
 * `class match …` command (`class lookup $token acme_dg`, `class match -value $t equals acme_dg`); null when
 * the rule does not handle ACME challenges.
 */
export function acmeDataGroupOf(source: string): string | null {
  if (!source.toLowerCase().includes(ACME_PREFIX)) return null;
  const re = /\bclass\s+(?:lookup|match)\b/g;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const text = commandText(source, m.index + m[0].length);
    let flat = text;
    for (let prev = ''; prev !== flat; ) {
      prev = flat;
      flat = flat.replace(/\[[^[\]]*\]/g, ' ');
    }
    const words = flat
      .split(/\s+/)
      .filter((w) => w !== '' && !w.startsWith('$') && !w.startsWith('-') && !w.startsWith('"'));
    const last = words[words.length - 1];
    if (
      last &&
      /^[A-Za-z0-9_./~:-]+$/.test(last) &&
      !['equals', 'starts_with', 'ends_with', 'contains'].includes(last)
    ) {
      return last;
    }
  }
  return null;
}

type Outcome = { kind: 'answer'; status: number; body: string; type: string } | { kind: 'reset' } | { kind: 'pool' };

function decide(state: SimulatorState, virtualFullPath: string, uri: string): Outcome {
  const vs = state.virtuals.get(virtualFullPath);
  for (const rulePath of vs?.rules ?? []) {
    const source = state.rules.get(rulePath) ?? '';
    const dgName = acmeDataGroupOf(source);
    if (dgName === null) continue;
    // `[HTTP::path]` is the URI without its query string; `[HTTP::uri]` keeps it.
    const subject = /string\s+range\s+\[HTTP::path\]/.test(source) ? (uri.split('?')[0] ?? uri) : uri;
    if (!subject.toLowerCase().startsWith(ACME_PREFIX)) return { kind: 'pool' };
    const token = subject.slice(ACME_PREFIX.length);
    const dg = state.dataGroups.get(resolveReference(dgName, splitFullPath(rulePath).partition));
    if (!dg) return { kind: 'reset' };
    const data = dg.records.get(token);
    if (data !== undefined) return { kind: 'answer', status: 200, body: data, type: 'text/plain' };
    return { kind: 'answer', status: 503, body: NOT_FOUND_HTML, type: 'text/html' };
  }
  return { kind: 'pool' };
}

/** Starts the listener; resolves with the server and its port. */
export function listenVirtualServer(
  state: SimulatorState,
  virtualFullPath: string,
  port: number,
  host: string,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    res.sendDate = false;
    const outcome = decide(state, virtualFullPath, req.url ?? '/');
    if (outcome.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const answer = outcome.kind === 'answer' ? outcome : { status: 404, body: POOL_404, type: 'text/html' };
    const body = Buffer.from(answer.body, 'utf8');
    const headers: Record<string, string | number> = { 'Content-Type': answer.type, 'Content-Length': body.length };
    if (outcome.kind === 'answer' && outcome.status === 200) headers['Cache-Control'] = 'no-store';
    res.writeHead(answer.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
