import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket, so the request target reaches the server
 * exactly as given: no client resolves `..`, decodes `%2e` or rewrites an absolute-form target (fetch and
 * node:http's request both may). The connection is closed by `Connection: close`; the whole reply is parsed.
 */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const body = opts.body ?? '';
  const headers: Record<string, string> = { host: 'www.example.com', connection: 'close', ...opts.headers };
  if (body !== '' || !['GET', 'HEAD'].includes(method)) headers['content-length'] ??= String(Buffer.byteLength(body));
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: a half-closed socket makes node:http drop a request whose handler is still awaiting.
    const socket = connect(port, '127.0.0.1', () => socket.write(head + body));
    socket.setTimeout(opts.timeoutMs ?? 10_000, () =>
      socket.destroy(new Error(`no reply to ${method} ${target} within the bound`)),
    );
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A server that resets the connection has refused the request; the test judges the (absent) status.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve(parse(Buffer.concat(chunks)));
      else reject(err);
    });
    socket.on('close', () => resolve(parse(Buffer.concat(chunks))));
  });
}

function parse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!match || end < 0) return { status: 0, headers: {}, body: text };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  // Chunked replies (Hono's streamed bodies): enough decoding to read a short answer.
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.slice(0, nl), 16);
      if (!(size > 0)) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(match[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}
