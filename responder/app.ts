import { Hono } from 'hono';
import { answerChallenge, NOT_FOUND_BODY, NOT_FOUND_HEADERS, FOUND_HEADERS } from './challenge-answer.ts';
import type { ChallengeHookService } from '../core/challenges/challenge-hook-service.ts';
import { registerChallengeHook } from './challenge-hook.ts';
import { refuseHostileTargets } from './refuse-hostile-targets.ts';
import { type Readiness, readinessResponse } from './readiness.ts';

export { TOKEN_PATTERN } from './challenge-answer.ts';

export interface ResponderDeps {
  /** The key authorization for a pending HTTP-01 token requested with this Host, or null (in-memory cache). */
  httpKeyAuthorization(token: string, host: string | undefined): string | null;
  /** Whether the process can serve: true/false, or degraded (serving from its cache without the database). */
  ready(): Promise<boolean | Readiness>;
  /** Prometheus registry served at GET /metrics. */
  metrics?: { contentType: string; metrics(): Promise<string> };
  /** `POST|GET|DELETE /challenge-hook/{domain}`; without it the hook routes do not exist (404). */
  hook?: ChallengeHookService;
}

/**
 * The responder's routes as a Hono app without a listener, so tests call `app.request()` directly. In
 * production the challenge route is answered by the plain node:http fast path in `server.ts` first, with the
 * same rule (`answerChallenge`); this route serves `app.request()` and any non-GET fallback.
 */
export function createResponderApp(deps: ResponderDeps): Hono {
  const app = new Hono();
  app.use(refuseHostileTargets);

  app.get('/.well-known/acme-challenge/:token', (c) => {
    const keyAuthorization = answerChallenge(c.req.param('token'), c.req.header('host'), deps.httpKeyAuthorization);
    if (!keyAuthorization) return c.body(NOT_FOUND_BODY, 404, NOT_FOUND_HEADERS);
    return c.body(keyAuthorization, 200, FOUND_HEADERS);
  });

  // RFC 8555 §8.3: the CA only ever GETs a challenge; say so instead of a 404 that hides the path.
  app.all('/.well-known/acme-challenge/*', (c) =>
    c.req.method === 'GET' || c.req.method === 'HEAD'
      ? c.body(NOT_FOUND_BODY, 404, NOT_FOUND_HEADERS)
      : c.body('method not allowed\n', 405, { ...NOT_FOUND_HEADERS, allow: 'GET, HEAD' }),
  );

  if (deps.hook) registerChallengeHook(app, deps.hook);

  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/metrics', async (c) => {
    if (!deps.metrics) return c.body(NOT_FOUND_BODY, 404, NOT_FOUND_HEADERS);
    return c.body(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType });
  });
  app.get('/readyz', async (c) => {
    const { status, body } = readinessResponse(await deps.ready());
    return c.text(body, status);
  });

  app.notFound((c) => c.body(NOT_FOUND_BODY, 404, NOT_FOUND_HEADERS));
  app.onError((_err, c) => c.body('internal error\n', 500, NOT_FOUND_HEADERS));
  return app;
}
