/**
 * Reference point for the responder benchmark, not production code: the least a node:http server can do for
 * the same three cases (a prefix check, the token regex, one Map lookup, precomputed raw headers, no Hono, no
 * cache class). What separates the real responder from nginx but not from this server is node:http itself.
 *
 *   node bench/responder-bare-node.ts --port 18070   (or via --import tsx; prints `ready pid=N port=N`)
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18070' },
    token: { type: 'string', default: 'bench_token_0123456789abcdefghijklmnopqrstu' },
    'key-auth': {
      type: 'string',
      default: 'bench_token_0123456789abcdefghijklmnopqrstu.Zx9wQ0bTHUMBPRINTthumbprintTHUMBPRINT012345',
    },
  },
});
const port = Number(values.port);
const PREFIX = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{22,128}$/;
const tokens = new Map([[values.token, values['key-auth']]]);
const NOT_FOUND = 'not found\n';
const notFoundHeaders = [
  'content-type',
  'text/plain; charset=utf-8',
  'cache-control',
  'no-store',
  'content-length',
  String(NOT_FOUND.length),
];

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url.startsWith(PREFIX)) {
    const token = url.slice(PREFIX.length);
    const value = TOKEN.test(token) ? tokens.get(token) : undefined;
    if (value !== undefined) {
      res.writeHead(200, [
        'content-type',
        'text/plain',
        'cache-control',
        'no-store',
        'content-length',
        String(Buffer.byteLength(value)),
      ]);
      res.end(value);
      return;
    }
  }
  res.writeHead(404, notFoundHeaders);
  res.end(NOT_FOUND);
});
server.listen(port, '127.0.0.1', () =>
  console.log(`ready pid=${process.pid} port=${port} cached=${tokens.size} source=bare-node`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
