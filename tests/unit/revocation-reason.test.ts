import { describe, expect, it } from 'vitest';
import {
  parseRevocationReason,
  REVOCATION_REASONS,
  revocationReasonProblem,
  signsWithCertificateKey,
} from '../../core/domain/revocation-reason.ts';

describe('revocation reasons (RFC 5280 §5.3.1 as RFC 8555 CAs take them)', () => {
  it('maps every name to its RFC 5280 code; certificateHold (6), 7 and removeFromCRL (8) are not among them', () => {
    expect(REVOCATION_REASONS).toEqual({
      unspecified: 0,
      keyCompromise: 1,
      cACompromise: 2,
      affiliationChanged: 3,
      superseded: 4,
      cessationOfOperation: 5,
      privilegeWithdrawn: 9,
      aACompromise: 10,
    });
  });

  it.each([
    ['keyCompromise', 'keyCompromise'],
    ['key-compromise', 'keyCompromise'],
    ['KEY_COMPROMISE', 'keyCompromise'],
    ['  superseded ', 'superseded'],
    ['cessation-of-operation', 'cessationOfOperation'],
    ['affiliationchanged', 'affiliationChanged'],
    ['privilege_withdrawn', 'privilegeWithdrawn'],
    ['aa-compromise', 'aACompromise'],
    ['ca-compromise', 'cACompromise'],
    ['0', 'unspecified'],
    ['4', 'superseded'],
    ['10', 'aACompromise'],
    ['certificateHold', null],
    ['certificate-hold', null],
    ['6', null],
    ['7', null],
    ['8', null],
    ['removeFromCRL', null],
    ['compromised', null],
    ['', null],
    ['1.0', null],
  ])('%j → %s', (text, expected) => {
    expect(parseRevocationReason(text)).toBe(expected);
  });

  it.each([
    [undefined, /needs a reason: one of unspecified, keyCompromise, .*aACompromise$/],
    ['  ', /needs a reason/],
    ['certificateHold', /^certificateHold is not a revocation ACME CAs accept .*use one of unspecified/],
    ['6', /^certificateHold is not/],
    ['stolen', /^"stolen" is not a revocation reason; use one of unspecified, keyCompromise, cACompromise/],
    ['superseded', null],
  ])('problem with %j', (text, expected) => {
    const problem = revocationReasonProblem(text);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('only keyCompromise signs with the certificate key', () => {
    for (const name of Object.keys(REVOCATION_REASONS) as (keyof typeof REVOCATION_REASONS)[])
      expect(signsWithCertificateKey(name)).toBe(name === 'keyCompromise');
  });
});
