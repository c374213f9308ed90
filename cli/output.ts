import { isCoreError } from '../core/errors.ts';

/** Renders results for people (aligned text) or machines (`--json`), and errors the same way. */
export interface Output {
  json: boolean;
  result(value: unknown, human: () => string): void;
  progress(message: string): void;
  fail(err: unknown): number;
}

const INPUT_CODES = new Set(['input_invalid', 'domain_invalid', 'domain_foreign', 'key_mismatch', 'tos_not_accepted', 'locked_field', 'not_found', 'conflict', 'config_invalid']);

export function createOutput(json: boolean, io: { stdout(t: string): void; stderr(t: string): void }): Output {
  return {
    json,
    result(value, human) {
      io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    progress(message) {
      if (!json) io.stderr(`… ${message}\n`);
    },
    fail(err) {
      const code = isCoreError(err) ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      if (json) io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
      else io.stderr(`error: ${message}\n`);
      return INPUT_CODES.has(code) ? 2 : 1;
    },
  };
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export function fields(record: Record<string, unknown>, keys: string[]): string {
  const width = Math.max(...keys.map((k) => k.length));
  const show = (v: unknown) => (v === null || v === undefined ? '-' : v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(', ') || '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return keys.map((k) => `${k.padEnd(width)}  ${show(record[k])}`).join('\n');
}
