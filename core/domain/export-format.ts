/**
 * What `cert export` writes, as rules without I/O: the formats, which certificates each holds, and what a
 * PKCS#12 file's passphrase and friendly name must look like (decision 0031).
 */
import { CoreError } from '../errors.ts';
import type { FieldProblems } from './validation/field-problems.ts';
import { isKeyPassphraseLongEnough, MIN_KEY_PASSPHRASE } from './validation/key-passphrase.ts';

/**
 * `pem`: the leaf alone. `fullchain`: the leaf and the CA's intermediates, as the CA sent them (what export
 * has always written). `pkcs12`: one passphrase-protected file with the key, the leaf and the intermediates.
 */
export const EXPORT_FORMATS = ['pem', 'fullchain', 'pkcs12'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** Export wrote the full chain before formats existed; scripts relying on that keep getting it. */
export const DEFAULT_EXPORT_FORMAT: ExportFormat = 'fullchain';
/** Longer friendly names are refused: key stores show them in one line, and Windows truncates past 64. */
export const MAX_FRIENDLY_NAME = 64;

export function isExportFormat(text: string): text is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(text);
}

/** The format named by `text` (any case); anything else is an input error that lists the formats. */
export function parseExportFormat(text: string): ExportFormat {
  const format = text.trim().toLowerCase();
  if (isExportFormat(format)) return format;
  throw new CoreError('input_invalid', `unknown export format "${text}" (formats: ${EXPORT_FORMATS.join(', ')})`, {
    detail: { fields: { format: `unknown export format "${text}"` } },
  });
}

/**
 * The certificates a PEM format writes, from the chain split into blocks (leaf first): the leaf alone for
 * `pem`, every certificate for `fullchain`.
 */
export function certificatesForFormat(chain: readonly string[], format: 'pem' | 'fullchain'): string[] {
  return format === 'pem' ? chain.slice(0, 1) : [...chain];
}

/**
 * Why a PKCS#12 passphrase is refused, or null. It is required (an unprotected key in a file is what the
 * PEM key export is for), one line (it is read from a file, as `openssl -passin file:` reads it), and as
 * long as the key passphrase rule asks of a key on the BIG-IP.
 */
export function pkcs12PassphraseProblem(passphrase: string | undefined): string | null {
  if (passphrase === undefined || passphrase === '') return 'a PKCS#12 file needs a passphrase';
  if (/[\r\n]/.test(passphrase)) return 'the PKCS#12 passphrase must be a single line';
  if (!isKeyPassphraseLongEnough(passphrase))
    return `the PKCS#12 passphrase must be at least ${MIN_KEY_PASSPHRASE} characters`;
  return null;
}

/** Why a friendly name is refused, or null: 1 to MAX_FRIENDLY_NAME characters, no control characters. */
export function friendlyNameProblem(name: string): string | null {
  if (name.trim() === '') return 'the friendly name is empty';
  if ([...name].length > MAX_FRIENDLY_NAME) return `the friendly name must be at most ${MAX_FRIENDLY_NAME} characters`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'the friendly name must not contain control characters';
  return null;
}

/** Every problem of a PKCS#12 export request, keyed by field; empty when it may go ahead. */
export function pkcs12ExportProblems(input: { passphrase: string | undefined; friendlyName: string }): FieldProblems {
  const problems: FieldProblems = {};
  const passphrase = pkcs12PassphraseProblem(input.passphrase);
  if (passphrase) problems.passphrase = passphrase;
  const friendlyName = friendlyNameProblem(input.friendlyName);
  if (friendlyName) problems.friendlyName = friendlyName;
  return problems;
}
