import type { MiddlewareHandler } from 'hono';
import { NOT_FOUND_HEADERS } from './challenge-answer.ts';
import { BAD_REQUEST_BODY, requestTargetProblem } from './raw-path.ts';

/**
 * The raw-path rule as the app's first middleware, for code that serves the app without `server.ts` (tests,
 * `app.request()`, another adapter). Defense in depth only: by the time a request is a `Request`, its URL
 * has been through the WHATWG parser, which already resolved `..` and `%2e%2e`; the node:http listener in
 * `server.ts` is the check that sees the target as sent. What is still visible here (encoded separators,
 * `//`, double encoding, NUL, a trailing `/.`) is refused in the same words.
 */
export const refuseHostileTargets: MiddlewareHandler = async function refuseHostileTargets(c, next) {
  const url = c.req.url;
  const pathStart = url.indexOf('/', url.indexOf('://') + 3);
  const target = pathStart === -1 ? '/' : url.slice(pathStart);
  if (requestTargetProblem(target) !== null) return c.body(BAD_REQUEST_BODY, 400, NOT_FOUND_HEADERS);
  await next();
};
