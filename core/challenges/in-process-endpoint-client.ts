import type { ChallengePayload } from '../domain/challenge-payload.ts';
import { isCoreError } from '../errors.ts';
import type { EndpointClient, EndpointResult } from '../ports/endpoint-client.ts';
import { type ChallengeHookService, hookDomain, hookRefusalStatus } from './challenge-hook-service.ts';

/**
 * The domain segment of a URL on this service's own challenge-hook (`<responderUrl>/challenge-hook/{domain}`,
 * as `useBuiltinEndpoint` writes it), still percent-encoded-decoded but not normalized; null for any other URL.
 */
function builtinHookSegment(url: string, responder: URL): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.origin !== responder.origin || u.search !== '' || u.username !== '' || u.password !== '') return null;
  const prefix = `${responder.pathname.replace(/\/+$/, '')}/challenge-hook/`;
  if (!u.pathname.startsWith(prefix)) return null;
  const segment = u.pathname.slice(prefix.length);
  if (segment === '' || segment.includes('/')) return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function refused(what: string, status: number, message: string): EndpointResult {
  // The same classification the HTTP client gives these statuses: 5xx may pass, 4xx needs the settings fixed.
  const transient = status >= 500;
  return {
    ok: false,
    status,
    detail: `${what}: HTTP ${status}, ${message}`,
    code: transient ? 'challenge_unreachable' : 'input_invalid',
    retryable: transient,
  };
}

/**
 * Publishing to this service's own responder calls the challenge-hook service directly instead of POSTing to
 * itself: same authentication, same validation, same store, same answers as the HTTP route (both share the
 * service), without a network round trip, a TLS trust setup or the SSRF policy standing between the core and
 * its own database. Every other URL goes to `http` unchanged (decision 0019).
 */
export function withInProcessHook(
  http: EndpointClient,
  hook: ChallengeHookService,
  responderUrl: string,
): EndpointClient {
  const responder = new URL(responderUrl);
  return {
    async post(url: string, username: string, password: string, payload: ChallengePayload): Promise<EndpointResult> {
      const segment = builtinHookSegment(url, responder);
      if (segment === null) return http.post(url, username, password, payload);
      const what = `POST ${url} (in process)`;
      try {
        const domain = hookDomain(segment);
        if (!(await hook.authenticate(domain, username, password))) {
          return refused(what, 401, 'the endpoint credentials are not those of this domain');
        }
        const stored = await hook.publish(domain, payload);
        return { ok: true, status: 201, detail: `${what}: stored ${stored}` };
      } catch (err) {
        const status = hookRefusalStatus(err);
        return refused(what, status, status !== 500 && isCoreError(err) ? err.message : 'internal error');
      }
    },
  };
}
