/**
 * The simulated device's configuration: plain maps keyed by BIG-IP full path, which tests may read and seed
 * directly. Every write through the REST API runs against this live state and is undone from a snapshot when
 * it (or its transaction) fails, so a failed write leaves the state exactly as it was.
 */

export interface CertObject {
  /** The file as installed: one certificate, or several (a bundle). */
  pem: string;
  /** `file:///var/config/rest/downloads/…` when created or updated through `sys file ssl-cert`. */
  sourcePath?: string;
}

export interface KeyObject {
  /** The file as installed; may be an encrypted PEM. */
  pem: string;
  securityType: 'normal' | 'password';
  /** The passphrase of an encrypted key (`securityType: password`). */
  passphrase?: string;
  sourcePath?: string;
}

export interface ProfileChainEntry {
  name: string;
  cert: string;
  key: string;
  /** Full path of a certificate (bundle) object, or 'none'. */
  chain: string;
  /** What the profile will use to decrypt an encrypted key. */
  passphrase?: string;
}

export interface ProfileObject {
  /** Parent profile full path; null for a base profile such as /Common/clientssl. */
  defaultsFrom: string | null;
  certKeyChain: ProfileChainEntry[];
  /** The SNI name the profile answers (`serverName`); absent means 'none'. */
  serverName?: string;
}

export interface DataGroupObject {
  /** 'string', 'ip' or 'integer'. */
  type: string;
  /** Record name → data ('' when the record has no data). */
  records: Map<string, string>;
}

export interface VirtualObject {
  /** e.g. '/Common/192.0.2.10:80'. */
  destination: string;
  /** Full paths of the attached iRules, in order. */
  rules: string[];
  /** Full paths of the attached profiles (the `profiles` subcollection), e.g. client-ssl profiles. */
  profiles?: string[];
}

/** Bookkeeping the REST answers show (`generation`, times, `revision`). */
export interface ObjectMeta {
  generation: number;
  createTime: string;
  lastUpdateTime: string;
  revision: number;
}

export type ObjectKind = 'cert' | 'key' | 'profile' | 'data-group' | 'rule' | 'virtual';

export interface SimulatorState {
  certs: Map<string, CertObject>;
  keys: Map<string, KeyObject>;
  profiles: Map<string, ProfileObject>;
  dataGroups: Map<string, DataGroupObject>;
  /** iRule full path → TCL source (`apiAnonymous`). */
  rules: Map<string, string>;
  virtuals: Map<string, VirtualObject>;
  /** Completed uploads: file name (in /var/config/rest/downloads/) → content. */
  uploads: Map<string, Buffer>;
  /** Successful `sys config save` calls. */
  saves: number;
  /** `<kind>:<fullPath>` → bookkeeping; objects seeded without an entry read as generation 1. */
  meta: Map<string, ObjectMeta>;
  /** Configuration generation counter (bumped by every change). */
  generation: number;
}

export function createState(): SimulatorState {
  return {
    certs: new Map(),
    keys: new Map(),
    profiles: new Map(),
    dataGroups: new Map(),
    rules: new Map(),
    virtuals: new Map(),
    uploads: new Map(),
    saves: 0,
    meta: new Map(),
    generation: 1,
  };
}

export type Snapshot = SimulatorState;

/** A deep copy of everything a write can change. */
export function snapshot(s: SimulatorState): Snapshot {
  return {
    certs: new Map([...s.certs].map(([k, v]) => [k, { ...v }])),
    keys: new Map([...s.keys].map(([k, v]) => [k, { ...v }])),
    profiles: new Map(
      [...s.profiles].map(([k, v]) => [
        k,
        {
          defaultsFrom: v.defaultsFrom,
          certKeyChain: v.certKeyChain.map((e) => ({ ...e })),
          ...(v.serverName === undefined ? {} : { serverName: v.serverName }),
        },
      ]),
    ),
    dataGroups: new Map([...s.dataGroups].map(([k, v]) => [k, { type: v.type, records: new Map(v.records) }])),
    rules: new Map(s.rules),
    virtuals: new Map(
      [...s.virtuals].map(([k, v]) => [
        k,
        { destination: v.destination, rules: [...v.rules], ...(v.profiles ? { profiles: [...v.profiles] } : {}) },
      ]),
    ),
    uploads: new Map(s.uploads),
    saves: s.saves,
    meta: new Map([...s.meta].map(([k, v]) => [k, { ...v }])),
    generation: s.generation,
  };
}

function refill<K, V>(target: Map<K, V>, from: Map<K, V>): void {
  target.clear();
  for (const [k, v] of from) target.set(k, v);
}

/** Puts `snap` back into the live state object (the maps keep their identity, so tests' references stay valid). */
export function restore(s: SimulatorState, snap: Snapshot): void {
  refill(s.certs, snap.certs);
  refill(s.keys, snap.keys);
  refill(s.profiles, snap.profiles);
  refill(s.dataGroups, snap.dataGroups);
  refill(s.rules, snap.rules);
  refill(s.virtuals, snap.virtuals);
  refill(s.uploads, snap.uploads);
  refill(s.meta, snap.meta);
  s.saves = snap.saves;
  s.generation = snap.generation;
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Records a create or change of an object: new generation, update time, revision. */
export function touchMeta(s: SimulatorState, kind: ObjectKind, fullPath: string, now: Date): ObjectMeta {
  s.generation += 1;
  const key = `${kind}:${fullPath}`;
  const at = isoSeconds(now);
  const old = s.meta.get(key);
  const meta: ObjectMeta = old
    ? { generation: s.generation, createTime: old.createTime, lastUpdateTime: at, revision: old.revision + 1 }
    : { generation: s.generation, createTime: at, lastUpdateTime: at, revision: 1 };
  s.meta.set(key, meta);
  return meta;
}

export function dropMeta(s: SimulatorState, kind: ObjectKind, fullPath: string): void {
  s.generation += 1;
  s.meta.delete(`${kind}:${fullPath}`);
}

export function metaOf(s: SimulatorState, kind: ObjectKind, fullPath: string, startedAt: Date): ObjectMeta {
  const found = s.meta.get(`${kind}:${fullPath}`);
  if (found) return found;
  const at = isoSeconds(startedAt);
  return { generation: 1, createTime: at, lastUpdateTime: at, revision: 1 };
}
