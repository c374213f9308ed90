/** RFC 8555 §8.3 tokens are base64url with at least 128 bits; anything else never reaches the lookup. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

export const CHALLENGE_PATH_PREFIX = '/.well-known/acme-challenge/';

export const FOUND_HEADERS = { 'content-type': 'text/plain', 'cache-control': 'no-store' } as const;
export const NOT_FOUND_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } as const;
export const NOT_FOUND_BODY = 'not found\n';
export const METHOD_NOT_ALLOWED_BODY = 'method not allowed\n';
/** RFC 8555 §8.3: the CA only ever GETs a challenge. */
export const CHALLENGE_ALLOW = 'GET, HEAD';

/** Whether a request target (path and query) is on the challenge path, with or without a token. */
export function isChallengePath(target: string): boolean {
  const end = target.indexOf('?');
  const path = end === -1 ? target : target.slice(0, end);
  return path.startsWith(CHALLENGE_PATH_PREFIX) || path === CHALLENGE_PATH_PREFIX.slice(0, -1);
}

/**
 * The one rule for an HTTP-01 request: a well-formed token with a pending challenge for the requested Host
 * gets exactly its key authorization; everything else the same 404 (no hint which part was wrong), without a
 * lookup when the token is malformed.
 */
export function answerChallenge(
  token: string,
  host: string | undefined,
  lookup: (token: string, host: string | undefined) => string | null,
  onResult?: (result: ChallengeResult) => void,
): string | null {
  if (!TOKEN_PATTERN.test(token)) {
    onResult?.('malformed');
    return null;
  }
  const value = lookup(token, host);
  onResult?.(value ? 'hit' : 'miss');
  return value;
}

export type ChallengeResult = 'hit' | 'miss' | 'malformed';
