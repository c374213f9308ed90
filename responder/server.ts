import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import {
  answerChallenge,
  CHALLENGE_ALLOW,
  type ChallengeResult,
  CHALLENGE_PATH_PREFIX,
  FOUND_HEADERS,
  isChallengePath,
  METHOD_NOT_ALLOWED_BODY,
  NOT_FOUND_BODY,
  NOT_FOUND_HEADERS,
} from './challenge-answer.ts';
import { BAD_REQUEST_BODY, requestTargetProblem } from './raw-path.ts';

// Flat raw header lists: node writes them as they are, without building and validating a headers object per
// request (measured: p99 at 64 connections fell from ~9 ms to ~2-4 ms, bench/RESULTS.md).
const FOUND_RAW = Object.entries(FOUND_HEADERS).flat();
const NOT_FOUND_RAW = [
  ...Object.entries(NOT_FOUND_HEADERS).flat(),
  'content-length',
  String(Buffer.byteLength(NOT_FOUND_BODY)),
];
const NOT_ALLOWED_RAW = [
  ...Object.entries(NOT_FOUND_HEADERS).flat(),
  'allow',
  CHALLENGE_ALLOW,
  'content-length',
  String(Buffer.byteLength(METHOD_NOT_ALLOWED_BODY)),
];
// `connection: close`: the refused request's body is never read, so it must not be parsed as a next request.
const BAD_REQUEST_RAW = [
  ...Object.entries(NOT_FOUND_HEADERS).flat(),
  'connection',
  'close',
  'content-length',
  String(Buffer.byteLength(BAD_REQUEST_BODY)),
];

/**
 * The HTTP listener. The CA's GET of a challenge is the hot path (and the one an attacker can flood), so it is
 * answered straight from node:http and the cache, without building Request/Response objects; everything else
 * goes to the Hono app.
 *
 * Before either, the raw request target must be a plain path (`raw-path.ts`): this is the one place that sees
 * it unnormalised, so a `..` or `%2e%2e` aimed past `/.well-known/acme-challenge/` is refused here, for every
 * method, instead of being resolved by the app's URL parser into another route.
 */
export function createResponderServer(
  app: Hono,
  lookup: (token: string, host: string | undefined) => string | null,
  onResult?: (result: ChallengeResult) => void,
): Server {
  const rest = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const method = req.method;
    if (requestTargetProblem(url) !== null) {
      res.writeHead(400, BAD_REQUEST_RAW);
      res.end(method === 'HEAD' ? undefined : BAD_REQUEST_BODY);
      return;
    }
    // RFC 8555 §8.3: the CA only GETs a challenge; any other method is refused here, whatever the token.
    if (method !== 'GET' && method !== 'HEAD' && isChallengePath(url)) {
      res.writeHead(405, NOT_ALLOWED_RAW);
      res.end(METHOD_NOT_ALLOWED_BODY);
      return;
    }
    if (url.startsWith(CHALLENGE_PATH_PREFIX)) {
      const end = url.indexOf('?');
      const token = url.slice(CHALLENGE_PATH_PREFIX.length, end === -1 ? undefined : end);
      const value = answerChallenge(token, req.headers.host, lookup, onResult);
      if (value) {
        res.writeHead(200, [...FOUND_RAW, 'content-length', String(Buffer.byteLength(value))]);
        res.end(method === 'HEAD' ? undefined : value);
      } else {
        res.writeHead(404, NOT_FOUND_RAW);
        res.end(method === 'HEAD' ? undefined : NOT_FOUND_BODY);
      }
      return;
    }
    rest(req, res);
  });
  // CONNECT never reaches the request handler (node hands over the socket); refuse it in the same words
  // instead of letting node drop the connection unanswered.
  server.on('connect', (_req, socket: Socket) => {
    socket.end(`HTTP/1.1 400 Bad Request\r\n${rawHeaderLines(BAD_REQUEST_RAW)}\r\n${BAD_REQUEST_BODY}`);
  });
  return server;
}

function rawHeaderLines(flat: string[]): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) out += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return out;
}
