/**
 * The rule for a request target before any routing: what a forwarding rule such as the operator guide's
 * `starts-with /.well-known/acme-challenge/` lets through must reach exactly the route it names, for every
 * method. A router that resolves `..` (Hono, through the WHATWG URL parser, does, also for `%2e%2e`) would
 * otherwise turn `/.well-known/acme-challenge/../../challenge-hook/x` into the write path.
 *
 * So a target is refused when it could mean a different path to any parser on the way: dot segments in any
 * mix of literal and percent-encoded dots, encoded `/` or `\`, empty segments, control characters, double
 * encoding, invalid UTF-8, Unicode that NFKC folds into `.`/`/`/`\`, and anything but an origin-form target
 * (absolute-form `http://host/...`, `*`, authority-form). Nothing any legitimate caller of the responder sends
 * looks like that. Pure, so it is checked the same way by the node:http listener and the Hono app.
 */

/** RFC 3986 `pchar`, `/` and `?` (path and query), and `%` for escapes checked below. */
const TARGET_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
/** What a segment must not contain once decoded: separators, escapes of escapes, `?`/`#`, controls. */
const BAD_DECODED = /[/\\%?#\u0000-\u001f\u007f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The segment's bytes: escapes decoded once, literal characters (ASCII, checked above) as they are. */
function percentDecode(segment: string): Buffer {
  return Buffer.from(
    segment.replace(ESCAPE, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
}

export const BAD_REQUEST_BODY = 'bad request\n';

/**
 * Why `target` (the raw request target, as `req.url` has it) is refused, or null when it is a plain
 * origin-form path. The reason is for tests and logs; the client gets the same 400 whatever it is.
 */
export function requestTargetProblem(target: string): string | null {
  if (!target.startsWith('/')) return 'not an origin-form target (it must start with "/")';
  if (!TARGET_CHARS.test(target)) return 'a character outside RFC 3986 path and query characters';
  if (BAD_ESCAPE.test(target)) return 'a "%" that is not a percent-escape';
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path === '/') return null;
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'an empty path segment ("//" or a trailing "/")';
    // Without escapes a segment is allowlisted ASCII: only a literal dot segment is left to refuse (and the
    // challenge hot path skips the decoding below).
    if (!segment.includes('%')) {
      if (segment === '.' || segment === '..') return 'a dot segment';
      continue;
    }
    let decoded: string;
    try {
      decoded = utf8.decode(percentDecode(segment));
    } catch {
      return 'percent-escapes that are not UTF-8';
    }
    if (decoded === '.' || decoded === '..') return 'a dot segment';
    if (BAD_DECODED.test(decoded)) return 'an encoded separator, escape or control character in a segment';
    const folded = decoded.normalize('NFKC');
    if (folded === '.' || folded === '..' || /[/\\]/.test(folded))
      return 'a segment that Unicode folds into a dot segment or separator';
  }
  return null;
}
