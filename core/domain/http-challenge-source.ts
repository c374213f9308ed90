/**
 * Which HTTP-01 answer the responder serves for a token. A token can have two candidates: the core's own
 * pending authorization and content a web server or automation published through the challenge-hook. Two
 * different challenges never share a token, so a clash means the same challenge twice or a hook entry that
 * claims a token of the core's: the core's answer wins, as for TLS-ALPN-01 (tls-alpn-source.ts), because the
 * core is about to ask the CA to validate exactly that answer.
 */

/** What an HTTP-01 answer needs here: the token, and whatever else the caller carries along. */
export interface TokenEntry {
  token: string;
}

/** The answer for one token: the core's when it has one, else the hook's, else none (404). */
export function presentedHttpChallenge<T>(core: T | null, hook: T | null): T | null {
  return core ?? hook;
}

/** Every answer, one per token, the core's winning a shared token (see {@link presentedHttpChallenge}). */
export function presentedHttpChallenges<T extends TokenEntry>(core: readonly T[], hook: readonly T[]): T[] {
  const byToken = new Map<string, T>();
  for (const entry of hook) byToken.set(entry.token, entry);
  for (const entry of core) byToken.set(entry.token, entry);
  return [...byToken.values()];
}
