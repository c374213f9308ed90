/**
 * The rules of master-key rotation, on the counts of sealed values per key id and this process's key ring
 * (primary first). Pure: the use case (core/secrets/secrets-service.ts) reads the counts and acts on the answer.
 */

/** How many sealed values one key id seals (summed over columns when a key appears in several). */
export interface KeyCount {
  keyId: string;
  count: number;
}

/** A key id as sealed values carry it: 16 lower-case hex digits. */
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

/** Counts summed per key id, in first-seen order. */
export function countsByKey(usage: readonly KeyCount[]): KeyCount[] {
  const totals = new Map<string, number>();
  for (const u of usage) totals.set(u.keyId, (totals.get(u.keyId) ?? 0) + u.count);
  return [...totals].map(([keyId, count]) => ({ keyId, count }));
}

/** Keys that values are sealed under but the ring cannot open: rotating past them would fail half-way. */
export function keysOutsideRing(usage: readonly KeyCount[], ring: readonly string[]): KeyCount[] {
  return countsByKey(usage).filter((k) => k.count > 0 && !ring.includes(k.keyId));
}

/** Values not yet sealed under the primary key (`ring[0]`). */
export function valuesToReseal(usage: readonly KeyCount[], ring: readonly string[]): number {
  return countsByKey(usage)
    .filter((k) => k.keyId !== ring[0])
    .reduce((n, k) => n + k.count, 0);
}

export type RotationStart =
  /** Some values are under keys this process lacks: refuse before changing anything. */
  | { kind: 'unknown-keys'; keys: KeyCount[] }
  /** Keys from the environment and only one of them: the process cannot tell the new key from the old. */
  | { kind: 'no-previous-key' }
  /** Embedded key file and no key still opening: start a rotation with a freshly generated key. */
  | { kind: 'generate' }
  /** Re-seal what is not under the primary yet (a new rotation from the environment, or a resumed one). */
  | { kind: 'reseal'; toReseal: number };

/**
 * What `secrets rotate` does. The primary is the new key exactly when some other key is still in the ring:
 * the operator put the old key in MASTER_KEY_PREVIOUS, or the process moved the old key file aside itself.
 */
export function rotationStart(
  usage: readonly KeyCount[],
  ring: readonly string[],
  source: 'file' | 'environment',
): RotationStart {
  const unknown = keysOutsideRing(usage, ring);
  if (unknown.length > 0) return { kind: 'unknown-keys', keys: unknown };
  if (ring.length === 1) return source === 'file' ? { kind: 'generate' } : { kind: 'no-previous-key' };
  return { kind: 'reseal', toReseal: valuesToReseal(usage, ring) };
}

export type RetirementCheck =
  | { ok: true }
  | { ok: false; reason: 'malformed' | 'primary' | 'unknown' }
  | { ok: false; reason: 'in-use'; count: number };

/** Whether `keyId` may stop opening: never the primary, never while a value is still sealed under it. */
export function retirementCheck(keyId: string, usage: readonly KeyCount[], ring: readonly string[]): RetirementCheck {
  if (!KEY_ID_PATTERN.test(keyId)) return { ok: false, reason: 'malformed' };
  if (keyId === ring[0]) return { ok: false, reason: 'primary' };
  const count = countsByKey(usage).find((k) => k.keyId === keyId)?.count ?? 0;
  if (count > 0) return { ok: false, reason: 'in-use', count };
  if (!ring.includes(keyId)) return { ok: false, reason: 'unknown' };
  return { ok: true };
}
