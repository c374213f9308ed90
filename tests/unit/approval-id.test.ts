import { describe, expect, it } from 'vitest';
import { isApprovalId } from '../../core/domain/validation/approval-id.ts';

describe('isApprovalId', () => {
  it.each([
    ['a lower-case UUID', '0b6f8d1e-2c4a-4f7e-9a1b-3c5d7e9f1a2b', true],
    ['an upper-case UUID', '0B6F8D1E-2C4A-4F7E-9A1B-3C5D7E9F1A2B', true],
    ['empty', '', false],
    ['a name', 'www.example.com', false],
    ['a UUID with text around it', 'x0b6f8d1e-2c4a-4f7e-9a1b-3c5d7e9f1a2b', false],
    ['not a string', 42, false],
  ])('%s', (_name, value, expected) => {
    expect(isApprovalId(value)).toBe(expected);
  });
});
