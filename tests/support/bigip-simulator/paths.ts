/**
 * Object paths (`reference/bigip-icontrol.md`, Conventions): `/Common/a.crt` ⇄ `~Common~a.crt`, subfolders
 * `~Common~f~a`, and the `kind/name/partition/fullPath/generation/selfLink` header every object answer carries.
 */
import { tmError } from './errors.ts';

export const DOWNLOADS_DIR = '/var/config/rest/downloads/';

/** A URL path segment naming an object → its full path. A bare `name` means `/Common/name`, as on the device. */
export function fullPathFromSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw tmError(400, `Invalid object name in the URI: ${segment}`, 1);
  }
  const path = decoded.startsWith('~') ? `/${decoded.slice(1).split('~').join('/')}` : `/Common/${decoded}`;
  checkFullPath(path);
  return path;
}

/** `/Common/f/a` → `~Common~f~a`. */
export function segmentOf(fullPath: string): string {
  return fullPath.split('/').join('~');
}

export interface PathParts {
  partition: string;
  subPath: string | null;
  name: string;
}

export function splitFullPath(fullPath: string): PathParts {
  const parts = fullPath.slice(1).split('/');
  const name = parts.pop() ?? '';
  const [partition = 'Common', ...folders] = parts;
  return { partition, subPath: folders.length > 0 ? folders.join('/') : null, name };
}

function checkFullPath(path: string): void {
  const parts = path.slice(1).split('/');
  if (!path.startsWith('/') || parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw tmError(400, `01070734:3: Configuration error: invalid object path (${path})`);
  }
}

/** A full path from a create body: `name` is a full path, or a bare name placed in `partition` (default Common). */
export function fullPathFromBody(body: Record<string, unknown>): string {
  const name = body['name'];
  if (typeof name !== 'string' || name === '')
    throw tmError(400, "01070734:3: Configuration error: 'name' is required");
  if (name.startsWith('/')) {
    checkFullPath(name);
    return name;
  }
  const partition = typeof body['partition'] === 'string' && body['partition'] !== '' ? body['partition'] : 'Common';
  const sub = typeof body['subPath'] === 'string' && body['subPath'] !== '' ? `/${body['subPath']}` : '';
  const path = `/${partition}${sub}/${name}`;
  checkFullPath(path);
  return path;
}

/** A reference inside a body (`"cert":"x.crt"`) resolved against `partition`; 'none' and full paths stay. */
export function resolveReference(ref: string, partition: string): string {
  if (ref === 'none' || ref.startsWith('/')) return ref;
  return `/${partition}/${ref}`;
}

export function selfLink(collectionPath: string, fullPath: string | null, version: string): string {
  const tail = fullPath === null ? '' : `/${segmentOf(fullPath)}`;
  return `https://localhost${collectionPath}${tail}?ver=${version}`;
}

export function objectHeader(
  kind: string,
  collectionPath: string,
  fullPath: string,
  generation: number,
  version: string,
): Record<string, unknown> {
  const { partition, subPath, name } = splitFullPath(fullPath);
  return {
    kind,
    name,
    partition,
    ...(subPath === null ? {} : { subPath }),
    fullPath,
    generation,
    selfLink: selfLink(collectionPath, fullPath, version),
  };
}

export function collection(
  kind: string,
  collectionPath: string,
  version: string,
  items: unknown[],
): Record<string, unknown> {
  return { kind, selfLink: selfLink(collectionPath, null, version), items };
}
