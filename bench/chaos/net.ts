/**
 * Small network helpers for the fault suite: free ports, readiness polling, and raw HTTP/1.1 over node:net so
 * a request line reaches the server byte for byte (no client-side normalisation of `..` or `%2e%2e`).
 */
import { connect, createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given on the request line. */
  target: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** One HTTP/1.1 request on its own connection (`Connection: close`); status 0 when nothing parsable came back. */
export function rawHttp(port: number, req: RawRequest): Promise<RawResponse> {
  const body = req.body ?? '';
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `Host: ${req.host ?? `127.0.0.1:${port}`}`, 'Connection: close'];
  for (const [name, value] of Object.entries(req.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body !== '' || ['POST', 'PUT', 'PATCH'].includes(req.method)) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const wire = `${lines.join('\r\n')}\r\n\r\n${body}`;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
    };
    socket.setTimeout(req.timeoutMs ?? 5_000, finish);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(wire);
  });
}

function parseResponse(text: string): RawResponse {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!match) return { status: 0, headers: {}, body: text };
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = split === -1 ? '' : text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(match[1]), headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol === -1) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Polls `GET path` until it answers `status` (default 200) or the time is up. */
export async function waitForHttp(port: number, path: string, timeoutMs: number, status = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await rawHttp(port, { method: 'GET', target: path, timeoutMs: 1_000 });
    if (res.status === status) return true;
    await sleep(100);
  }
  return false;
}
