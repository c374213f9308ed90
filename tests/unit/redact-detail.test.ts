import { describe, expect, it } from 'vitest';
import { REDACTED, redactDetail } from '../../core/domain/redact-detail.ts';

describe('redactDetail', () => {
  it('keeps ordinary facts as they are', () => {
    const detail = {
      code: 'acme_unreachable',
      message: 'connect ECONNREFUSED',
      attempt: 3,
      serial: '0abc',
      names: ['a', 'b'],
      includeKey: false,
      nested: { device: 'lb1' },
    };
    expect(redactDetail(detail)).toEqual(detail);
  });

  it('hides values under secret-sounding keys and any private-key PEM, at any depth', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----';
    expect(
      redactDetail({
        password: 'p',
        nested: { passphrase: 'x', keyPem: 'y', hmacKey: 'z', list: [{ endpointPasswordVerifier: 'v' }, pem] },
        note: `here: ${pem}`,
        keySealed: 'v1.k1.x',
      }),
    ).toEqual({
      password: REDACTED,
      nested: {
        passphrase: REDACTED,
        keyPem: REDACTED,
        hmacKey: REDACTED,
        list: [{ endpointPasswordVerifier: REDACTED }, REDACTED],
      },
      note: REDACTED,
      keySealed: REDACTED,
    });
  });
});
