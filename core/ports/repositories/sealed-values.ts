import type { SealedColumn } from '../../secrets/sealed-columns.ts';

/** One sealed value and the id of its row. */
export interface SealedValue {
  id: string;
  value: string;
}

/** How many values of one sealed column are sealed under one key id. */
export interface KeyUsage {
  /** `table.column` */
  column: string;
  keyId: string;
  count: number;
}

/** The sealed columns across every table (core/secrets/sealed-columns.ts), for key rotation. */
export interface SealedValueRepository {
  /** Per column and key id, how many non-null values there are. */
  usage(): Promise<KeyUsage[]>;
  /**
   * Up to `limit` values of `column` not sealed under `keyId`, in row id order after `afterId` (a cursor, so one
   * pass ends even while other processes write).
   */
  listNotUnder(column: SealedColumn, keyId: string, afterId: string | null, limit: number): Promise<SealedValue[]>;
  /** Compare-and-set: writes `next` only while the row still holds `expected`. False when it did not. */
  replace(column: SealedColumn, id: string, expected: string, next: string): Promise<boolean>;
}
