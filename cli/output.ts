import { type HintWords, isCoreError, messageWithHint, sayCommands } from '../core/errors.ts';

/**
 * Renders results for people (aligned text) or machines (`--json`), and errors the same way. With `--json`
 * every outcome is exactly one JSON document on stdout: the result, or `{"error":{"code","message"}}`.
 */
export interface Output {
  json: boolean;
  result(value: unknown, human: () => string): void;
  progress(message: string): void;
  fail(err: unknown): number;
  /** A usage error (unknown command or option, missing argument): code `usage`, exit code 2. */
  usage(message: string): number;
}

const INPUT_CODES = new Set([
  'input_invalid',
  'domain_invalid',
  'domain_foreign',
  'key_mismatch',
  'tos_not_accepted',
  'locked_field',
  'not_found',
  'conflict',
  'forbidden',
  'config_invalid',
  'usage',
]);

/** Whether argv asks for JSON: `--json` anywhere, before or after the command, up to a `--` (options end there). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The exit code for an error code: 2 when the input (or who gave it) is the problem, 1 otherwise. */
export function exitCodeFor(code: string): number {
  return INPUT_CODES.has(code) ? 2 : 1;
}

/** One error as it is printed: a JSON document on stdout with `--json`, an `error:` line on stderr without. */
export function renderError(
  json: boolean,
  code: string,
  message: string,
  io: { stdout(t: string): void; stderr(t: string): void },
): number {
  if (json) io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  else io.stderr(`error: ${message}\n`);
  return exitCodeFor(code);
}

// A private key in PEM (PKCS#8, PKCS#1, SEC1, encrypted) and a value sealed by the secret box (v1.<keyId>.…).
const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
const SEALED = /\bv1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}\b/g;

/**
 * The last guard before a result is printed: results are built without keys or sealed values, so this
 * never fires unless a view regresses, and then it withholds the secret instead of printing it.
 */
export function withholdSecrets(text: string): string {
  return text.replace(PRIVATE_KEY_PEM, '[private key withheld]').replace(SEALED, '[sealed value withheld]');
}

/** A core error's hint in the command line's words. */
const CLI_WORDS: HintWords = { command: (words) => `bigip-acme ${words.join(' ')}`, option: (name) => `--${name}` };

export function createOutput(json: boolean, raw: { stdout(t: string): void; stderr(t: string): void }): Output {
  // Commands the core mentions in its texts (status lines, progress, stored details) in the CLI's words.
  const io = {
    stdout: (t: string) => raw.stdout(sayCommands(t, CLI_WORDS)),
    stderr: (t: string) => raw.stderr(sayCommands(t, CLI_WORDS)),
  };
  return {
    json,
    result(value, human) {
      io.stdout(withholdSecrets(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`));
    },
    progress(message) {
      if (!json) io.stderr(`… ${message}\n`);
    },
    fail(err) {
      const code = isCoreError(err) ? err.code : 'internal';
      const message = isCoreError(err)
        ? messageWithHint(err, CLI_WORDS)
        : err instanceof Error
          ? err.message
          : String(err);
      return renderError(json, code, withholdSecrets(message), io);
    },
    usage(message) {
      return renderError(json, 'usage', message, io);
    },
  };
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? '-'
      : v instanceof Date
        ? v.toISOString()
        : Array.isArray(v)
          ? v.join(',')
          : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join(
    '\n',
  );
}

export function fields(record: Record<string, unknown>, keys: string[]): string {
  const width = Math.max(...keys.map((k) => k.length));
  const show = (v: unknown) =>
    v === null || v === undefined
      ? '-'
      : v instanceof Date
        ? v.toISOString()
        : Array.isArray(v)
          ? v.join(', ') || '-'
          : typeof v === 'object'
            ? JSON.stringify(v)
            : String(v);
  return keys.map((k) => `${k.padEnd(width)}  ${show(record[k])}`).join('\n');
}
