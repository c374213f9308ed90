import { describe, expect, it } from 'vitest';
import { parseFullPath } from '../../core/bigip/bigip-path.ts';
import {
  DEFAULT_PARTITION,
  isPartitionName,
  partitionNameProblem,
  requestedPartition,
} from '../../core/domain/partition-name.ts';
import { CoreError } from '../../core/errors.ts';
import { profileFullPath } from '../../core/services/binding-service.ts';

describe('the BIG-IP partition name rule', () => {
  it.each<[string, string, string | null]>([
    ['the default partition', 'Common', null],
    ['letters, digits, dot, underscore and dash', 'Tenant_A-1.prod', null],
    ['a single letter', 'a', null],
    ['64 characters', `a${'b'.repeat(63)}`, null],
    ['empty', '', 'is empty'],
    ['65 characters', `a${'b'.repeat(64)}`, 'is longer than 64 characters'],
    ['starts with a digit', '1x', 'may only contain letters, digits, ".", "_" and "-" and must start with a letter'],
    [
      'starts with an underscore',
      '_x',
      'may only contain letters, digits, ".", "_" and "-" and must start with a letter',
    ],
    ['a dot name', '..', 'may only contain letters, digits, ".", "_" and "-" and must start with a letter'],
    ['a slash', 'bad/part', 'may only contain letters, digits, ".", "_" and "-" and must start with a letter'],
    ['a colon', 'a:b', 'may only contain letters, digits, ".", "_" and "-" and must start with a letter'],
    ['a space', 'no spaces', 'may only contain letters, digits, ".", "_" and "-" and must start with a letter'],
    [
      'a tilde (the URL separator)',
      'a~b',
      'may only contain letters, digits, ".", "_" and "-" and must start with a letter',
    ],
  ])('%s: %j', (_case, name, problem) => {
    expect(partitionNameProblem(name)).toBe(problem);
    expect(isPartitionName(name)).toBe(problem === null);
  });

  it('defaults a request to Common and trims it', () => {
    expect(requestedPartition(undefined)).toBe(DEFAULT_PARTITION);
    expect(requestedPartition(' Tenant ')).toBe('Tenant');
    expect(() => requestedPartition('/Common')).toThrow(CoreError);
  });

  // The same rule wherever a partition appears: typed, in a full path, in a binding's profile path.
  it.each(['Common', 'Tenant_A', '1x', '_x', `a${'b'.repeat(64)}`])('%s: the same verdict everywhere', (name) => {
    const ok = isPartitionName(name);
    const accepts = (run: () => unknown): boolean => {
      try {
        run();
        return true;
      } catch {
        return false;
      }
    };
    expect(accepts(() => requestedPartition(name))).toBe(ok);
    expect(accepts(() => parseFullPath(`/${name}/obj`))).toBe(ok);
    expect(accepts(() => parseFullPath(`/Common/${name}/obj`))).toBe(ok);
    expect(accepts(() => profileFullPath(`/${name}/acme_www`, 'Common'))).toBe(ok);
    expect(accepts(() => profileFullPath('acme_www', name))).toBe(ok);
  });
});
