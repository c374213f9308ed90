/**
 * BIG-IP full paths (`/Common/www.example.com.crt`, `/Tenant/app/vs_http`) and their iControl URL form
 * (`~Common~www.example.com.crt`): the one place that validates object names and converts between the two
 * (`reference/bigip-icontrol.md`, Conventions). Only names that need no URL encoding are accepted, so a
 * validated full path can go into a URL, a JSON body or a tmsh options string as it is.
 */
import { partitionNameProblem } from '../domain/partition-name.ts';
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';

/** Characters TMOS accepts in object names that also need no escaping in a URL path: `A-Z a-z 0-9 . _ - :`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._:-]*$/;
/** TMOS object names are limited to 255 characters; a full path gets some room for its folders. */
const NAME_MAX = 255;
const FULL_PATH_MAX = 1024;
/** How much of a refused name a message quotes. */
const SHOWN_MAX = 80;

export interface ParsedFullPath {
  partition: string;
  /** Folders between the partition and the name (`/Common/f/a` → `['f']`); usually empty. */
  folders: string[];
  name: string;
}

/** Why `name` is not a usable BIG-IP object name; null when it is. */
export function objectNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.length > NAME_MAX) return `is longer than ${NAME_MAX} characters`;
  if (name === '.' || name === '..') return 'is a dot name';
  if (!NAME.test(name))
    return 'may only contain letters, digits, ".", "_", "-" and ":" and must not start with "." "-" or ":"';
  return null;
}

export function assertObjectName(name: string, what = 'BIG-IP object name'): string {
  const problem = objectNameProblem(name);
  if (problem !== null)
    throw new CoreError('input_invalid', `${what} ${clip(name, SHOWN_MAX, { quote: true })} ${problem}`);
  return name;
}

export function assertPartition(partition: string, what = 'BIG-IP partition'): string {
  const problem = partitionNameProblem(partition);
  if (problem !== null)
    throw new CoreError('input_invalid', `${what} ${clip(partition, SHOWN_MAX, { quote: true })} ${problem}`);
  return partition;
}

/** Splits and validates `/Partition[/folder…]/name`; throws input_invalid otherwise. */
export function parseFullPath(fullPath: string, what = 'BIG-IP full path'): ParsedFullPath {
  if (fullPath.length > FULL_PATH_MAX) {
    throw new CoreError('input_invalid', `${what} is longer than ${FULL_PATH_MAX} characters`);
  }
  if (!fullPath.startsWith('/')) {
    throw new CoreError(
      'input_invalid',
      `${what} ${clip(fullPath, SHOWN_MAX, { quote: true })} must start with "/" and a partition, e.g. /Common/name`,
    );
  }
  const parts = fullPath.slice(1).split('/');
  if (parts.length < 2) {
    throw new CoreError(
      'input_invalid',
      `${what} ${clip(fullPath, SHOWN_MAX, { quote: true })} must be /Partition/name`,
    );
  }
  const name = parts.pop()!;
  const [partition, ...folders] = parts as [string, ...string[]];
  assertPartition(partition, `partition of ${what} ${clip(fullPath, SHOWN_MAX, { quote: true })}:`);
  for (const folder of folders)
    assertPartition(folder, `folder of ${what} ${clip(fullPath, SHOWN_MAX, { quote: true })}:`);
  assertObjectName(name, `name of ${what} ${clip(fullPath, SHOWN_MAX, { quote: true })}:`);
  return { partition, folders, name };
}

/** Validates a full path and returns it unchanged. */
export function assertFullPath(fullPath: string, what?: string): string {
  parseFullPath(fullPath, what);
  return fullPath;
}

/** `partition` + `name` → `/partition/name`, both validated. */
export function fullPathOf(partition: string, name: string): string {
  assertPartition(partition);
  assertObjectName(name);
  return `/${partition}/${name}`;
}

/** `/Common/a.crt` → `~Common~a.crt`; `/Common/f/a` → `~Common~f~a`. Validates first. */
export function toUrlSegment(fullPath: string): string {
  assertFullPath(fullPath);
  return fullPath.replaceAll('/', '~');
}

/** `~Common~a.crt` → `/Common/a.crt`. Validates the result. */
export function fromUrlSegment(segment: string): string {
  if (!segment.startsWith('~')) {
    throw new CoreError(
      'input_invalid',
      `BIG-IP URL segment ${clip(segment, SHOWN_MAX, { quote: true })} must start with "~"`,
    );
  }
  return assertFullPath(segment.replaceAll('~', '/'));
}

/**
 * The `name`, `partition` and (for folders) `subPath` fields a create call sends for `fullPath`.
 * BIG-IP also accepts a full path in `name`, but the split form is what the device echoes back.
 */
export function createFields(fullPath: string): { name: string; partition: string; subPath?: string } {
  const { partition, folders, name } = parseFullPath(fullPath);
  return folders.length === 0 ? { name, partition } : { name, partition, subPath: folders.join('/') };
}
