import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { answerChallenge, CHALLENGE_PATH_PREFIX, FOUND_HEADERS, NOT_FOUND_BODY, NOT_FOUND_HEADERS } from './challenge-answer.ts';

/**
 * The HTTP listener. The CA's GET of a challenge is the hot path (and the one an attacker can flood), so it is
 * answered straight from node:http and the cache, without building Request/Response objects; everything else
 * goes to the Hono app.
 */
export function createResponderServer(app: Hono, lookup: (token: string, host: string | undefined) => string | null): Server {
  const rest = getRequestListener(app.fetch);
  return createServer((req, res) => {
    const url = req.url ?? '';
    const method = req.method;
    if ((method === 'GET' || method === 'HEAD') && url.startsWith(CHALLENGE_PATH_PREFIX)) {
      const end = url.indexOf('?');
      const token = url.slice(CHALLENGE_PATH_PREFIX.length, end === -1 ? undefined : end);
      const value = answerChallenge(token, req.headers.host, lookup);
      const body = value ?? NOT_FOUND_BODY;
      res.writeHead(value ? 200 : 404, { ...(value ? FOUND_HEADERS : NOT_FOUND_HEADERS), 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    rest(req, res);
  });
}
