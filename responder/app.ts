import { Hono } from 'hono';

/** RFC 8555 §8.3 tokens are base64url with at least 128 bits; anything else never reaches the lookup. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

export interface ResponderDeps {
  /** The key authorization for a pending HTTP-01 token, or null. */
  httpKeyAuthorization(token: string): Promise<string | null>;
  /** Whether the process can serve (database reachable). */
  ready(): Promise<boolean>;
}

const NOT_FOUND_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/** The challenge responder as a Hono app without a listener, so tests call `app.request()` directly. */
export function createResponderApp(deps: ResponderDeps): Hono {
  const app = new Hono();

  app.get('/.well-known/acme-challenge/:token', async (c) => {
    const token = c.req.param('token');
    if (!TOKEN_PATTERN.test(token)) return c.body('not found\n', 404, NOT_FOUND_HEADERS);
    const keyAuthorization = await deps.httpKeyAuthorization(token);
    if (!keyAuthorization) return c.body('not found\n', 404, NOT_FOUND_HEADERS);
    return c.body(keyAuthorization, 200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
  });

  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', async (c) => ((await deps.ready()) ? c.text('ready\n') : c.text('not ready\n', 503)));

  app.notFound((c) => c.body('not found\n', 404, NOT_FOUND_HEADERS));
  app.onError((_err, c) => c.body('internal error\n', 500, NOT_FOUND_HEADERS));
  return app;
}
