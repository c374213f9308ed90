import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { BackupSummary } from '../../core/backup/backup-service.ts';
import type { CommandKit } from '../command-kit.ts';

function summaryText(verb: string, s: BackupSummary): string {
  return [
    `${verb} ${s.file}`,
    `database   ${s.database}, migration ${s.migration}, bigip-acme ${s.appVersion}`,
    `created    ${s.createdAt}`,
    `rows       ${s.rows} (${Object.entries(s.tables)
      .filter(([, n]) => n > 0)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')})`,
    `master key ${s.keyIds.length > 0 ? s.keyIds.join(', ') : '- (no sealed secrets)'}`,
  ].join('\n');
}

/** `backup`: the whole database to one archive file and back, across PGlite and PostgreSQL (decision 0030). */
export function registerBackupCommands(program: Command, kit: CommandKit): void {
  const { action, withOutput, actor, path } = kit;
  const backup = program
    .command('backup')
    .description('back up all data to one checksummed file, and restore it into an empty database of either kind');

  backup
    .command('create <file>')
    .description('write every table to FILE (gzip, mode 0600); secrets stay sealed, the master key is not included')
    .action(
      action(async (rt, o, file: string) => {
        const [{ createBackup }, { createBackupTables }, { appVersion }, { systemClock }] = await Promise.all([
          import('../../core/backup/backup-service.ts'),
          import('../../db/backup-tables.ts'),
          import('../app-version.ts'),
          import('../../core/ports/clock.ts'),
        ]);
        const summary = await createBackup(
          { tables: createBackupTables(rt.database), audit: rt.store.audit, clock: systemClock },
          path(file),
          { appVersion: appVersion(), actor: actor() },
        );
        o.result({ ...summary, file }, () => summaryText('wrote', { ...summary, file }));
      }),
    );

  backup
    .command('verify <file>')
    .description('check a backup file (gzip, format, checksum, row counts) and say what it holds; changes nothing')
    .action(
      withOutput(async (out, file: string) => {
        const { inspectBackup } = await import('../../core/backup/backup-service.ts');
        const summary = { ...inspectBackup(path(file)), file };
        out.result(summary, () => summaryText('verified', summary));
      }),
    );

  backup
    .command('restore <file>')
    .description(
      'restore FILE into an empty DATA_DIR or DATABASE_URL (needs the master key the backup was made with); all or nothing',
    )
    .action(
      withOutput(async (out, file: string) => {
        const [
          { checkMasterKey, readBackup, restoreBackup },
          { loadConfig },
          { readMasterKeyFile },
          { createSecretBox },
          { readPreviousKeys },
          { systemClock },
          { openDatabase },
          { createBackupTables },
          { createDrizzleStore },
        ] = await Promise.all([
          import('../../core/backup/backup-service.ts'),
          import('../../core/config.ts'),
          import('../../core/secrets/master-key-file.ts'),
          import('../../core/secrets/secret-box.ts'),
          import('../../core/secrets/key-ring.ts'),
          import('../../core/ports/clock.ts'),
          import('../../db/client.ts'),
          import('../../db/backup-tables.ts'),
          import('../../db/drizzle-store.ts'),
        ]);
        // Everything that can be checked without the target is checked before it is opened.
        const archive = readBackup(path(file));
        const config = loadConfig();
        const dataDir = resolve(config.DATA_DIR);
        // Never generated here: a new key could not open the backup's secrets.
        const key = config.MASTER_KEY ?? (config.DATABASE_URL ? undefined : readMasterKeyFile(dataDir));
        // The previous keys open too, as in every process (decision 0029): an archive from before a key rotation.
        const fromFile = !config.MASTER_KEY && !config.DATABASE_URL;
        const previous = [...config.MASTER_KEY_PREVIOUS, ...(fromFile ? readPreviousKeys(dataDir) : [])];
        const secrets = key === undefined ? null : createSecretBox(key, previous);
        checkMasterKey(archive, secrets);
        out.progress(`restoring ${archive.rows.length} rows into ${config.DATABASE_URL ? 'PostgreSQL' : dataDir}`);
        const database = await openDatabase(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir });
        try {
          const summary = await restoreBackup(
            {
              tables: createBackupTables(database),
              audit: createDrizzleStore(database).audit,
              clock: systemClock,
              secrets,
            },
            archive,
            { file, actor: actor() },
          );
          out.result(summary, () => summaryText('restored', summary));
        } finally {
          await database.close();
        }
      }),
    );
}
