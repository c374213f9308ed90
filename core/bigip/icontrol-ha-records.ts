/**
 * iControl JSON of the `cm` module (`reference/bigip-icontrol.md` §6) → the port's types. Read leniently:
 * `selfDevice` and `autoSync` are strings on the device, the stats answers nest their values under
 * `nestedStats.entries`, and the sync-status details may be absent.
 */
import type { DeviceGroupRecord, HaDeviceRecord, SyncStatusRecord } from '../ports/bigip-client.ts';

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function items(json: unknown): Json[] {
  const list = obj(json)['items'];
  return Array.isArray(list) ? list.map(obj) : [];
}

export function toHaDevices(json: unknown): HaDeviceRecord[] {
  return items(json)
    .filter((d) => str(d['name']) !== null)
    .map((d) => ({
      name: str(d['name'])!,
      failoverState: str(d['failoverState']),
      self: d['selfDevice'] === 'true' || d['selfDevice'] === true,
    }));
}

export function toDeviceGroups(json: unknown): DeviceGroupRecord[] {
  return items(json)
    .filter((g) => str(g['name']) !== null)
    .map((g) => ({
      name: str(g['name'])!,
      fullPath: str(g['fullPath']) ?? `/Common/${str(g['name'])}`,
      type: str(g['type']) ?? 'unknown',
      autoSync: g['autoSync'] === 'enabled' || g['autoSync'] === true,
    }));
}

export function toGroupMembers(json: unknown): string[] {
  return items(json)
    .map((m) => str(m['name']))
    .filter((n): n is string => n !== null);
}

/** The first nested stats entry's `entries`. */
function firstNested(json: unknown): Json {
  const entries = obj(obj(json)['entries']);
  const first = Object.values(entries)[0];
  return obj(obj(obj(first)['nestedStats'])['entries']);
}

function description(entries: Json, field: string): string | null {
  return str(obj(entries[field])['description']);
}

export function toSyncStatus(json: unknown): SyncStatusRecord | null {
  const e = firstNested(json);
  const status = description(e, 'status');
  if (status === null) return null;
  const detailsKey = Object.keys(e).find((k) => /\/details$/.test(k));
  const nested = detailsKey ? obj(obj(obj(e[detailsKey])['nestedStats'])['entries']) : {};
  const details = Object.values(nested)
    .map((d) => description(obj(obj(obj(d)['nestedStats'])['entries']), 'details'))
    .filter((d): d is string => d !== null);
  return { status, color: description(e, 'color'), summary: description(e, 'summary'), details };
}
