import { presentedHttpChallenge, presentedHttpChallenges } from '../domain/http-challenge-source.ts';
import type { HttpChallenge, Store } from '../ports/store.ts';

/** What the HTTP-01 responder serves: every answer for its cache, and one token's when a change is notified. */
export interface HttpChallengePresenter {
  all(): Promise<(HttpChallenge & { token: string })[]>;
  one(token: string): Promise<HttpChallenge | null>;
}

/**
 * The HTTP-01 answers the responder serves, the core's pending challenges and the hook's entries merged by
 * the one rule in core/domain/http-challenge-source.ts. The responder only asks.
 */
export function httpChallengePresenter(
  store: Pick<Store, 'authorizations' | 'hookChallenges'>,
): HttpChallengePresenter {
  return {
    all: async () => {
      const [own, hooked] = await Promise.all([
        store.authorizations.pendingHttpChallenges(),
        store.hookChallenges.allHttp(),
      ]);
      return presentedHttpChallenges(own, hooked);
    },
    one: async (token) => {
      const [own, hooked] = await Promise.all([
        store.authorizations.httpChallenge(token),
        store.hookChallenges.httpChallenge(token),
      ]);
      return presentedHttpChallenge(own, hooked);
    },
  };
}
