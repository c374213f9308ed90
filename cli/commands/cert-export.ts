import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseExportFormat } from '../../core/domain/export-format.ts';
import { CoreError } from '../../core/errors.ts';
import type { Pkcs12Export } from '../../core/export/certificate-export.ts';
import type { CommandKit } from '../command-kit.ts';
import { startPrivateFile, writePrivate } from '../private-file.ts';

/**
 * `cert export`: the chain as PEM (the leaf alone, or with its intermediates) and the key on request, or one
 * PKCS#12 file (decision 0031). Registered by `cert.ts` in its place among the `cert` commands.
 */
export function registerCertExportCommand(cert: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;

  /** A secret read from a file, or from stdin for `-`; one trailing line ending is not part of it. */
  async function readSecretFile(file: string): Promise<string> {
    let text: string;
    if (file === '-') {
      if (!kit.readStdin)
        throw new CoreError(
          'input_invalid',
          "a running service cannot read this terminal's stdin; give the passphrase in a file (mode 0600)",
        );
      text = await kit.readStdin();
    } else {
      try {
        text = readFileSync(path(file), 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new CoreError('input_invalid', `cannot read the passphrase file ${file} (${reason})`);
      }
    }
    return text.replace(/\r?\n$/, '');
  }

  cert
    .command('export <name>')
    .description(
      'write the certificate (pem: the leaf; fullchain, the default: leaf and intermediates; pkcs12: key, leaf and intermediates in one file)',
    )
    .option('--format <format>', 'pem, fullchain or pkcs12', 'fullchain')
    .option('--out <file>', 'output file (default: stdout; required for pkcs12, written mode 0600)')
    .option('--include-key', 'also export the private key (pem, fullchain; audited)')
    .option('--key-out <file>', 'where to write the key (required with --include-key; written mode 0600)')
    .option(
      '--passphrase-file <file>',
      'pkcs12: file holding the passphrase (- reads stdin); never on the command line',
    )
    .option('--friendly-name <name>', "pkcs12: the name key stores show (default: the certificate's name)")
    .option('--force', 'pkcs12: replace an existing --out file')
    .action(
      action(
        async (
          rt,
          out,
          name: string,
          o: {
            format: string;
            out?: string;
            includeKey?: boolean;
            keyOut?: string;
            passphraseFile?: string;
            friendlyName?: string;
            force?: boolean;
          },
        ) => {
          const format = parseExportFormat(o.format);
          if (format === 'pkcs12') {
            if (o.includeKey || o.keyOut)
              throw new CoreError(
                'input_invalid',
                'a PKCS#12 file holds the key itself; --include-key and --key-out are for pem and fullchain',
              );
            if (!o.out) throw new CoreError('input_invalid', 'a PKCS#12 file is binary: give --out FILE');
            if (!o.passphraseFile)
              throw new CoreError(
                'input_invalid',
                'a PKCS#12 file needs --passphrase-file FILE (or - for stdin); passphrases are never taken on the command line',
              );
            const passphrase = await readSecretFile(o.passphraseFile);
            // The file is claimed first: an existing one or a bad directory is refused before the export is audited.
            const target = startPrivateFile(path(o.out), o.out, Boolean(o.force));
            let p12: Pkcs12Export;
            try {
              p12 = await rt.services.certificates.exportPkcs12(
                name,
                { passphrase, friendlyName: o.friendlyName },
                actor(),
              );
              target.commit(p12.pkcs12);
            } finally {
              target.discard();
            }
            out.result(
              {
                format,
                out: o.out,
                friendlyName: p12.friendlyName,
                certificates: p12.certificates,
                serial: p12.serial,
              },
              () =>
                `wrote ${o.out} (PKCS#12: the key and ${p12.certificates} certificates, friendly name "${p12.friendlyName}")`,
            );
            return;
          }
          for (const [given, option] of [
            [o.passphraseFile, '--passphrase-file'],
            [o.friendlyName, '--friendly-name'],
            [o.force, '--force'],
          ] as const) {
            if (given !== undefined)
              throw new CoreError(
                'input_invalid',
                `${option} is for --format pkcs12 (pem and fullchain files are replaced as before)`,
              );
          }
          if (Boolean(o.includeKey) !== Boolean(o.keyOut)) {
            throw new CoreError(
              'input_invalid',
              '--include-key and --key-out FILE go together (keys are never printed)',
            );
          }
          const exported = await rt.services.certificates.export(
            name,
            { includeKey: Boolean(o.includeKey), format },
            actor(),
          );
          if (exported.keyPem && o.keyOut) writePrivate(path(o.keyOut), exported.keyPem);
          if (o.out) {
            writeFileSync(path(o.out), exported.chainPem);
            out.result(
              { chain: o.out, key: o.keyOut ?? null },
              () => `wrote ${o.out}${o.keyOut ? ` and ${o.keyOut}` : ''}`,
            );
          } else if (out.json) {
            out.result({ chainPem: exported.chainPem, key: o.keyOut ?? null }, () => '');
          } else {
            kit.stdout(exported.chainPem);
          }
        },
      ),
    );
}
