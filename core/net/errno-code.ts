/** What {@link errnoCode} returns for an error without a string `code`. */
export const UNKNOWN_ERRNO = 'EUNKNOWN';

/**
 * The `code` of a Node system, DNS or TLS error (`ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, …), or
 * {@link UNKNOWN_ERRNO}. Errors cross module and library boundaries as `unknown`, so the code is read, not typed.
 */
export function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : UNKNOWN_ERRNO;
}
