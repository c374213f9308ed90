import { describe, expect, it } from 'vitest';
import {
  certificatesForFormat,
  DEFAULT_EXPORT_FORMAT,
  friendlyNameProblem,
  parseExportFormat,
  pkcs12ExportProblems,
  pkcs12PassphraseProblem,
} from '../../core/domain/export-format.ts';
import { isCoreError } from '../../core/errors.ts';

describe('parseExportFormat', () => {
  it.each([
    ['the leaf alone', 'pem', 'pem'],
    ['leaf and intermediates', 'fullchain', 'fullchain'],
    ['key and chain in one file', 'pkcs12', 'pkcs12'],
    ['any case, surrounding blanks', ' PKCS12 ', 'pkcs12'],
  ])('%s: %j', (_name, text, format) => {
    expect(parseExportFormat(text)).toBe(format);
  });

  it.each([
    ['another container', 'pfx'],
    ['a near miss', 'full-chain'],
    ['nothing', ''],
  ])('refuses %s (%j), naming the formats and the field', (_name, text) => {
    let thrown: unknown;
    try {
      parseExportFormat(text);
    } catch (err) {
      thrown = err;
    }
    expect(isCoreError(thrown) && thrown.code).toBe('input_invalid');
    expect((thrown as Error).message).toBe(`unknown export format "${text}" (formats: pem, fullchain, pkcs12)`);
    expect((thrown as { detail: unknown }).detail).toEqual({ fields: { format: expect.any(String) } });
  });

  it('defaults to the full chain, which export wrote before formats existed', () => {
    expect(DEFAULT_EXPORT_FORMAT).toBe('fullchain');
  });
});

describe('certificatesForFormat', () => {
  const chain = ['leaf\n', 'intermediate\n', 'cross-signed\n'];
  it.each([
    ['pem takes the leaf', 'pem', ['leaf\n']],
    ['fullchain takes them all, in order', 'fullchain', chain],
  ] as const)('%s', (_name, format, expected) => {
    expect(certificatesForFormat(chain, format)).toEqual(expected);
  });
});

describe('pkcs12PassphraseProblem (the key passphrase minimum, but required)', () => {
  it.each([
    ['missing', undefined, 'a PKCS#12 file needs a passphrase'],
    ['an empty file', '', 'a PKCS#12 file needs a passphrase'],
    ['three characters', 'abc', 'the PKCS#12 passphrase must be at least 4 characters'],
    ['two lines', 'first line\nsecond', 'the PKCS#12 passphrase must be a single line'],
    ['a carriage return inside', 'abcd\refgh', 'the PKCS#12 passphrase must be a single line'],
    ['four characters', 'abcd', null],
    ['blanks kept as given', '  spaced out  ', null],
    ['non-ASCII', 'pässwörd-🔑', null],
  ])('%s', (_name, passphrase, problem) => {
    expect(pkcs12PassphraseProblem(passphrase)).toBe(problem);
  });
});

describe('friendlyNameProblem', () => {
  it.each([
    ['the certificate name', 'www.example.com', null],
    ['with spaces and non-ASCII', 'Zürich web (2026)', null],
    ['64 characters', 'x'.repeat(64), null],
    ['64 characters outside the BMP count once each', '🔑'.repeat(64), null],
    ['65 characters', 'x'.repeat(65), 'the friendly name must be at most 64 characters'],
    ['empty', '', 'the friendly name is empty'],
    ['blanks only', '   ', 'the friendly name is empty'],
    ['a newline', 'web\nserver', 'the friendly name must not contain control characters'],
    ['a DEL', 'web\u007f', 'the friendly name must not contain control characters'],
  ])('%s', (_name, name, problem) => {
    expect(friendlyNameProblem(name)).toBe(problem);
  });
});

describe('pkcs12ExportProblems', () => {
  it.each([
    ['fine', { passphrase: 'abcd', friendlyName: 'web' }, {}],
    [
      'both wrong, keyed by field',
      { passphrase: 'ab', friendlyName: '' },
      {
        passphrase: 'the PKCS#12 passphrase must be at least 4 characters',
        friendlyName: 'the friendly name is empty',
      },
    ],
    ['passphrase missing', { passphrase: undefined, friendlyName: 'web' }, { passphrase: expect.any(String) }],
  ])('%s', (_name, input, problems) => {
    expect(pkcs12ExportProblems(input)).toEqual(problems);
  });
});
