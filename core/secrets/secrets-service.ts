import { countsByKey, type KeyCount, retirementCheck, rotationStart, valuesToReseal } from '../domain/key-rotation.ts';
import { invalidInput } from '../domain/validation/field-problems.ts';
import { CoreError, runCommand } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { MasterKeys } from '../ports/master-keys.ts';
import { appendAudit } from '../services/audit-trail.ts';
import { type CoreDepsWith, noProgress, type Progress, secretAad } from '../services/core-deps.ts';
import { SEALED_COLUMNS, sealedColumnName } from './sealed-columns.ts';

export interface KeyStatus {
  keyId: string;
  /** `primary` seals; `previous` still opens; `unknown`: values use it but this process cannot open them. */
  role: 'primary' | 'previous' | 'unknown';
  values: number;
  /** Values per `table.column`. */
  columns: Record<string, number>;
}

export interface SecretsStatus {
  source: MasterKeys['source'];
  primaryKeyId: string;
  keys: KeyStatus[];
  total: number;
}

export interface RotationResult {
  keyId: string;
  /** The key generated for this rotation (embedded key file), or null when it continued with the primary. */
  generated: string | null;
  resealed: number;
  /** Values another process changed between read and write; left as that process wrote them. */
  changedMeanwhile: number;
  /** Values still under another key afterwards (written meanwhile by a process whose primary is an old key). */
  remaining: number;
  /** Keys in the ring that no value uses any more: `secrets retire-key` may drop them. */
  retirable: string[];
}

export interface RetirementResult {
  retired: string;
  source: MasterKeys['source'];
}

const DEFAULT_BATCH = 100;
const MAX_BATCH = 10_000;
const ROTATE_AGAIN = runCommand('then run', ['secrets', 'rotate']);

/**
 * Master-key rotation: re-seal every sealed value under the primary key while the old keys still open, then
 * retire the old keys once nothing uses them. Each value is replaced by compare-and-set on its old sealed form,
 * so a crash or a concurrent writer never loses a value, and running again continues where a run stopped.
 */
export class SecretsService {
  private rotating = false;

  constructor(
    private readonly deps: Pick<CoreDepsWith<'sealedValues' | 'audit'>, 'store' | 'secrets'>,
    private readonly keys: MasterKeys,
  ) {}

  async status(): Promise<SecretsStatus> {
    const usage = await this.deps.store.sealedValues.usage();
    const ring = this.keys.keyIds();
    const ids = [...ring, ...countsByKey(usage).map((k) => k.keyId)].filter((id, i, all) => all.indexOf(id) === i);
    const keys = ids.map((keyId, i): KeyStatus => {
      const mine = usage.filter((u) => u.keyId === keyId);
      return {
        keyId,
        role: i === 0 ? 'primary' : ring.includes(keyId) ? 'previous' : 'unknown',
        values: mine.reduce((n, u) => n + u.count, 0),
        columns: Object.fromEntries(mine.map((u) => [u.column, u.count])),
      };
    });
    return { source: this.keys.source, primaryKeyId: ring[0]!, keys, total: keys.reduce((n, k) => n + k.values, 0) };
  }

  async rotate(opts: { batchSize?: number; progress?: Progress }, actor: string): Promise<RotationResult> {
    // Two rotations forwarded to one embedded service could each generate a key; one at a time per process.
    if (this.rotating) throw new CoreError('conflict', 'a key rotation is already running in this process');
    this.rotating = true;
    try {
      return await this.rotateOnce(opts, actor);
    } finally {
      this.rotating = false;
    }
  }

  private async rotateOnce(opts: { batchSize?: number; progress?: Progress }, actor: string): Promise<RotationResult> {
    const batchSize = opts.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
      throw invalidInput({ batchSize: `the batch size must be a whole number from 1 to ${MAX_BATCH}` });
    }
    const progress = opts.progress ?? noProgress;
    const { sealedValues } = this.deps.store;
    const start = rotationStart(await sealedValues.usage(), this.keys.keyIds(), this.keys.source);
    if (start.kind === 'unknown-keys') throw this.unknownKeys(start.keys);
    if (start.kind === 'no-previous-key') {
      throw new CoreError(
        'config_invalid',
        `this process has one master key (${this.keys.keyIds()[0]}), so it cannot tell the new key from the old; ` +
          'nothing changed. Give every process the new key as MASTER_KEY and the current one in ' +
          'MASTER_KEY_PREVIOUS, restart them',
        { hint: ROTATE_AGAIN },
      );
    }
    let generated: string | null = null;
    if (start.kind === 'generate') {
      const previous = this.keys.keyIds()[0]!;
      generated = this.keys.generatePrimary();
      await this.audit(actor, 'secrets.generate_key', 'ok', {
        keyId: generated,
        previousKeyId: previous,
      });
      progress(`generated a new master key ${generated}; ${previous} still opens until it is retired`);
    }

    const primary = this.keys.keyIds()[0]!;
    if (this.deps.secrets.keyId !== primary) {
      // Re-sealing with a box that is not the ring's would move values to a key the ring does not know.
      throw new CoreError(
        'internal',
        `the secret box seals with ${this.deps.secrets.keyId}, not the primary ${primary}`,
      );
    }
    const total = valuesToReseal(await sealedValues.usage(), this.keys.keyIds());
    progress(`re-sealing ${total} value(s) under key ${primary}`);
    let resealed = 0;
    let changedMeanwhile = 0;
    try {
      for (const column of SEALED_COLUMNS) {
        let after: string | null = null;
        for (;;) {
          const batch = await sealedValues.listNotUnder(column, primary, after, batchSize);
          if (batch.length === 0) break;
          for (const row of batch) {
            const aad = secretAad(column.table, row.id, column.aadColumn);
            const next = this.deps.secrets.seal(this.deps.secrets.open(row.value, aad), aad);
            if (await sealedValues.replace(column, row.id, row.value, next)) resealed++;
            else changedMeanwhile++;
            after = row.id;
          }
          progress(`re-sealed ${resealed}/${total} (${sealedColumnName(column)})`);
          failpoint('secrets_rotate_batch');
        }
      }
    } catch (err) {
      await this.audit(actor, 'secrets.rotate', 'error', {
        keyId: primary,
        // Named `moved`: audit details redact any key that mentions sealing.
        moved: resealed,
        code: err instanceof CoreError ? err.code : 'internal',
      });
      throw err;
    }

    const after = await sealedValues.usage();
    const ring = this.keys.keyIds();
    const remaining = valuesToReseal(after, ring);
    const used = new Set(
      countsByKey(after)
        .filter((k) => k.count > 0)
        .map((k) => k.keyId),
    );
    const retirable = ring.slice(1).filter((id) => !used.has(id));
    await this.audit(actor, 'secrets.rotate', 'ok', {
      keyId: primary,
      generated,
      moved: resealed,
      changedMeanwhile,
      remaining,
    });
    return { keyId: primary, generated, resealed, changedMeanwhile, remaining, retirable };
  }

  async retireKey(keyId: string, actor: string): Promise<RetirementResult> {
    const ring = this.keys.keyIds();
    const check = retirementCheck(keyId, await this.deps.store.sealedValues.usage(), ring);
    if (!check.ok) {
      switch (check.reason) {
        case 'malformed':
          throw invalidInput({ keyId: 'a key id is 16 lower-case hex digits, as secrets status lists them' });
        case 'primary':
          throw new CoreError(
            'conflict',
            `key ${keyId} is the primary key, which seals new values; it cannot be retired`,
          );
        case 'in-use':
          throw new CoreError(
            'conflict',
            `${check.count} value(s) are still sealed under key ${keyId}; nothing changed. Re-seal them first ` +
              '(every process needs the new key as its primary before)',
            { hint: runCommand('run', ['secrets', 'rotate']), detail: { keyId, count: check.count } },
          );
        case 'unknown':
          throw new CoreError('not_found', `no key ${keyId} among this process's keys, and no value uses it`, {
            hint: runCommand('see', ['secrets', 'status'], { aside: true }),
          });
      }
    }
    this.keys.dropKey(keyId);
    await this.audit(actor, 'secrets.retire_key', 'ok', {
      keyId,
      source: this.keys.source,
    });
    return { retired: keyId, source: this.keys.source };
  }

  /** Every rotation step is audited against the one object it changes: the master key. */
  private audit(actor: string, action: string, result: 'ok' | 'error', detail: Record<string, unknown>) {
    return appendAudit(
      this.deps.store.audit,
      'system',
      { id: null, name: 'master key' },
      actor,
      action,
      result,
      detail,
    );
  }

  private unknownKeys(keys: KeyCount[]): CoreError {
    const listed = keys.map((k) => `${k.count} under ${k.keyId}`).join(', ');
    const where =
      this.keys.source === 'file' ? 'DATA_DIR/master.key.previous or MASTER_KEY_PREVIOUS' : 'MASTER_KEY_PREVIOUS';
    // A key the process lacks is its configuration's fault, not the data's: config_invalid, like a bad MASTER_KEY.
    return new CoreError(
      'config_invalid',
      `stored values are sealed under keys this process cannot open (${listed}); nothing changed. Give it those ` +
        `keys in ${where}`,
      { hint: ROTATE_AGAIN, detail: { unknownKeys: keys } },
    );
  }
}

/** Keys of a process that was given one box and nothing else (tests, tools): environment, primary only. */
export function fixedMasterKeys(keyId: string): MasterKeys {
  return {
    source: 'environment',
    keyIds: () => [keyId],
    generatePrimary: () => {
      throw new CoreError('internal', 'this process cannot generate master keys');
    },
    dropKey: () => {},
  };
}
