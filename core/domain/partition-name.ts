/**
 * The BIG-IP partition name rule, the one place it is written: what a person may type as a partition (CLI,
 * Slack, stored on certificates and devices) and what a full path `/Partition[/folder…]/name` may hold
 * before its name. TMOS makes a folder of the same name for every partition, so folders follow it too.
 * Stricter than TMOS needs (it starts with a letter, at most 64 characters), so every accepted name goes into
 * a URL (`~Partition~name`), a JSON body or a tmsh string as it is.
 */
import { CoreError } from '../errors.ts';

/** Where objects go when nobody names a partition. */
export const DEFAULT_PARTITION = 'Common';
export const PARTITION_NAME_MAX = 64;

const PARTITION_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** Why `name` is not a usable partition (or folder) name, as the end of a sentence; null when it is. */
export function partitionNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.length > PARTITION_NAME_MAX) return `is longer than ${PARTITION_NAME_MAX} characters`;
  if (!PARTITION_NAME.test(name)) {
    return 'may only contain letters, digits, ".", "_" and "-" and must start with a letter';
  }
  return null;
}

export function isPartitionName(name: string): boolean {
  return partitionNameProblem(name) === null;
}

/** The partition a request names, trimmed, or {@link DEFAULT_PARTITION}; input_invalid when it breaks the rule. */
export function requestedPartition(input: string | undefined): string {
  const partition = (input ?? DEFAULT_PARTITION).trim();
  if (!isPartitionName(partition)) {
    throw new CoreError('input_invalid', `partition "${partition}" is not a valid BIG-IP partition name`);
  }
  return partition;
}
