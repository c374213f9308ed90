import { describe, expect, it } from 'vitest';
import {
  createFields,
  fromUrlSegment,
  fullPathOf,
  objectNameProblem,
  parseFullPath,
  toUrlSegment,
} from '../../core/bigip/bigip-path.ts';
import { partitionNameProblem as partitionProblem } from '../../core/domain/partition-name.ts';
import { CoreError } from '../../core/errors.ts';

describe('BIG-IP full paths and URL segments', () => {
  it.each([
    ['/Common/a.crt', '~Common~a.crt'],
    ['/Common/www.example.com_20270224.crt', '~Common~www.example.com_20270224.crt'],
    ['/Common/f/a', '~Common~f~a'],
    ['/Tenant_A/app-1/vs_http', '~Tenant_A~app-1~vs_http'],
    ['/Common/2001:db8::1.80', '~Common~2001:db8::1.80'],
  ])('%s ↔ %s', (fullPath, segment) => {
    expect(toUrlSegment(fullPath)).toBe(segment);
    expect(fromUrlSegment(segment)).toBe(fullPath);
  });

  it('splits partition, folders and name', () => {
    expect(parseFullPath('/Common/a.crt')).toEqual({ partition: 'Common', folders: [], name: 'a.crt' });
    expect(parseFullPath('/Common/f/g/a')).toEqual({ partition: 'Common', folders: ['f', 'g'], name: 'a' });
    expect(createFields('/Common/a.crt')).toEqual({ name: 'a.crt', partition: 'Common' });
    expect(createFields('/Common/f/a')).toEqual({ name: 'a', partition: 'Common', subPath: 'f' });
  });

  it('joins a partition and a name', () => {
    expect(fullPathOf('Common', 'acme_dg')).toBe('/Common/acme_dg');
    expect(() => fullPathOf('Common', 'a/b')).toThrow(CoreError);
    expect(() => fullPathOf('Com mon', 'a')).toThrow(CoreError);
  });

  it.each([
    ['no leading slash', 'Common/a.crt'],
    ['no name', '/Common'],
    ['empty name', '/Common/'],
    ['empty partition', '//a.crt'],
    ['tilde in the name', '/Common/a~b'],
    ['space in the name', '/Common/a b'],
    ['space in the partition', '/Com mon/a'],
    ['dot-dot name', '/Common/..'],
    ['dot-dot folder', '/Common/../a'],
    ['query characters', '/Common/a?b=c'],
    ['percent', '/Common/a%2Fb'],
    ['brace', '/Common/a{b}'],
    ['newline', '/Common/a\nb'],
    ['leading dash', '/Common/-a'],
    ['too long', `/Common/${'a'.repeat(300)}`],
  ])('refuses %s', (_why, fullPath) => {
    let caught: unknown;
    try {
      toUrlSegment(fullPath);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect((caught as CoreError).code).toBe('input_invalid');
  });

  it('explains what is wrong with a name or partition', () => {
    expect(objectNameProblem('')).toBe('is empty');
    expect(objectNameProblem('a/b')).toMatch(/may only contain/);
    expect(objectNameProblem('www.example.com')).toBeNull();
    expect(partitionProblem('Common')).toBeNull();
    expect(partitionProblem('a:b')).toMatch(/may only contain/);
  });

  it('refuses a URL segment without the leading tilde', () => {
    expect(() => fromUrlSegment('Common~a')).toThrow(CoreError);
  });
});
