import { describe, expect, it } from 'vitest';
import { errnoCode, UNKNOWN_ERRNO } from '../../core/net/errno-code.ts';

describe('errnoCode', () => {
  it.each<[string, unknown, string]>([
    ['a system error', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['a TLS error', Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }), 'CERT_HAS_EXPIRED'],
    ['a plain object with a code', { code: 'ENOENT' }, 'ENOENT'],
    ['an error without a code', new Error('x'), UNKNOWN_ERRNO],
    ['a numeric code', { code: 404 }, UNKNOWN_ERRNO],
    ['null', null, UNKNOWN_ERRNO],
    ['undefined', undefined, UNKNOWN_ERRNO],
    ['a string', 'ECONNREFUSED', UNKNOWN_ERRNO],
  ])('%s', (_case, err, expected) => {
    expect(errnoCode(err)).toBe(expected);
  });
});
