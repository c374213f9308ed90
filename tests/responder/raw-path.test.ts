import { describe, expect, it } from 'vitest';
import { requestTargetProblem } from '../../responder/raw-path.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const ACME = '/.well-known/acme-challenge/';

describe('requestTargetProblem: the raw request target, before routing', () => {
  it.each([
    ['the root', '/'],
    ['a challenge token', `${ACME}${TOKEN}`],
    ['a token with a query', `${ACME}${TOKEN}?x=1&y=../..`],
    ['a query holding encoded separators', '/healthz?next=%2f..%2f'],
    ['a malformed token (answered 404 later, not here)', `${ACME}not-a-token`],
    ['the hook with a domain', '/challenge-hook/www.example.com'],
    ['the hook with a wildcard, encoded', '/challenge-hook/%2A.example.com'],
    ['the hook with a trailing-dot domain', '/challenge-hook/www.example.com.'],
    ['encoded UTF-8', '/challenge-hook/b%C3%BCcher.example'],
    ['three dots (a name, not a dot segment)', '/a/.../b'],
    ['dots inside a segment', '/a/..b/b../.b./b'],
    ['an encoded space', '/a%20b'],
    ['sub-delims and colon/at', "/a:b@c!$&'()*+,;=d"],
    ['health and metrics', '/metrics'],
  ])('accepts %s', (_label, target) => {
    expect(requestTargetProblem(target)).toBeNull();
  });

  it.each([
    // Dot segments, every mix of literal and encoded dots, anywhere in the path.
    ['..', `${ACME}../../challenge-hook/x`, /dot segment/],
    ['.', `${ACME}./${TOKEN}`, /dot segment/],
    ['%2e%2e', `${ACME}%2e%2e/%2e%2e/challenge-hook/x`, /dot segment/],
    ['%2E%2E', `${ACME}%2E%2E/healthz`, /dot segment/],
    ['.%2e', `${ACME}.%2e/healthz`, /dot segment/],
    ['%2e.', `${ACME}%2e./healthz`, /dot segment/],
    ['%2E.', `${ACME}%2E./healthz`, /dot segment/],
    ['%2e', `${ACME}%2e/${TOKEN}`, /dot segment/],
    ['.. at the end', '/metrics/..', /dot segment/],
    ['. at the end', '/healthz/.', /dot segment/],
    ['/metrics/../healthz', '/metrics/../healthz', /dot segment/],
    // Encoded separators.
    ['%2f', `${ACME}..%2f..%2fhealthz`, /encoded separator/],
    ['%2F', `${ACME}${TOKEN}%2F`, /encoded separator/],
    ['%5c', `${ACME}..%5c..%5chealthz`, /encoded separator/],
    ['%5C', `${ACME}..%5Chealthz`, /encoded separator/],
    ['a raw backslash', `${ACME}..\\..\\healthz`, /character outside/],
    // Empty segments.
    ['//', `${ACME}/${TOKEN}`, /empty path segment/],
    ['a leading //', '//www.example.com/healthz', /empty path segment/],
    ['a trailing /', '/healthz/', /empty path segment/],
    ['the bare challenge prefix', ACME, /empty path segment/],
    // NUL and other controls.
    ['%00', `${ACME}${TOKEN}%00`, /control/],
    ['%00 beside dots', `${ACME}..%00/healthz`, /control/],
    ['%09 (WHATWG drops tabs)', `${ACME}..%09/healthz`, /control/],
    ['%0d%0a', `/healthz%0d%0aX: y`, /character outside/],
    ['%0d%0a alone', '/healthz%0d%0a', /control/],
    ['%7f', '/a%7f', /control/],
    ['a raw NUL', '/a\u0000', /character outside/],
    ['a raw tab', '/a\tb', /character outside/],
    // Double encoding: an escape that decodes to another escape.
    ['%252e%252e', `${ACME}%252e%252e/healthz`, /escape/],
    ['%25%32%65', `${ACME}%25%32%65%25%32%65/healthz`, /escape/],
    ['%252f', `${ACME}..%252fhealthz`, /escape/],
    // Other encodings of the same thing.
    ['overlong UTF-8 dots (%c0%ae)', `${ACME}%c0%ae%c0%ae/healthz`, /not UTF-8/],
    ['a lone continuation byte', '/a%80', /not UTF-8/],
    ['fullwidth dots (NFKC: ..)', `${ACME}%ef%bc%8e%ef%bc%8e/healthz`, /Unicode folds/],
    ['a two-dot leader (NFKC: ..)', `${ACME}%e2%80%a5/healthz`, /Unicode folds/],
    ['a fullwidth solidus (NFKC: /)', `${ACME}..%ef%bc%8fhealthz`, /Unicode folds/],
    ['encoded ? inside a segment', '/healthz%3fx', /encoded separator/],
    ['encoded # inside a segment', '/healthz%23x', /encoded separator/],
    ['a stray %', `${ACME}%`, /not a percent-escape/],
    ['a bad escape', `${ACME}%zz`, /not a percent-escape/],
    ['a short escape', '/challenge-hook/%E0%A4%A', /not a percent-escape/],
    // Not origin-form.
    ['absolute-form', `http://www.example.com${ACME}../../challenge-hook/x`, /origin-form/],
    ['absolute-form without dots', 'http://www.example.com/healthz', /origin-form/],
    ['asterisk-form (OPTIONS *)', '*', /origin-form/],
    ['authority-form (CONNECT)', 'www.example.com:443', /origin-form/],
    ['empty', '', /origin-form/],
    // Characters outside path and query.
    ['a fragment', `${ACME}../../healthz#x`, /character outside/],
    ['a space', '/a b', /character outside/],
    ['raw non-ASCII (latin1 bytes as node gives them)', '/\u00e9', /character outside/],
    ['a pipe', '/a|b', /character outside/],
  ])('refuses %s', (_label, target, why) => {
    expect(requestTargetProblem(target)).toMatch(why);
  });
});
