import type { Command } from 'commander';
import type { RetirementResult, RotationResult, SecretsStatus } from '../../core/secrets/secrets-service.ts';
import type { CommandKit } from '../command-kit.ts';
import { fields, table } from '../output.ts';
import { wholeNumber } from '../option-parsers.ts';

function renderStatus(s: SecretsStatus): string {
  const rows = s.keys.map((k) => ({
    ...k,
    role: k.role === 'unknown' ? 'UNKNOWN (cannot open)' : k.role,
    where: Object.entries(k.columns)
      .map(([c, n]) => `${c}=${n}`)
      .join(' '),
  }));
  const unknown = s.keys.filter((k) => k.role === 'unknown').map((k) => k.keyId);
  const warning = unknown.length
    ? `\n\nthis process cannot open values sealed under ${unknown.join(', ')}: give it ${unknown.length > 1 ? 'those keys' : 'that key'} in MASTER_KEY_PREVIOUS${s.source === 'file' ? ' (or DATA_DIR/master.key.previous)' : ''}`
    : '';
  return `${fields({ source: s.source === 'file' ? 'DATA_DIR/master.key' : 'environment', primary: s.primaryKeyId, values: s.total }, ['source', 'primary', 'values'])}\n\n${table(rows, ['keyId', 'role', 'values', 'where'])}${warning}`;
}

function renderRotation(r: RotationResult): string {
  const lines = [
    r.generated ? `generated master key ${r.generated} (DATA_DIR/master.key; back it up)` : null,
    `re-sealed ${r.resealed} value(s) under key ${r.keyId}`,
    r.changedMeanwhile ? `${r.changedMeanwhile} value(s) were rewritten by another process meanwhile` : null,
    r.remaining
      ? `${r.remaining} value(s) are still under another key (a process still seals with an old MASTER_KEY?); run secrets rotate again once every process has the new key`
      : null,
    r.retirable.length
      ? `no value uses ${r.retirable.join(', ')} any more; retire with: bigip-acme secrets retire-key KEY_ID`
      : null,
  ];
  return lines.filter(Boolean).join('\n');
}

function renderRetirement(r: RetirementResult): string {
  return r.source === 'file'
    ? `retired key ${r.retired}: removed from DATA_DIR/master.key.previous`
    : `retired key ${r.retired}: no value uses it; now remove it from MASTER_KEY_PREVIOUS on every process`;
}

/** `secrets`: which master keys seal the stored secrets, rotation onto a new key, retiring the old one. */
export function registerSecretsCommands(program: Command, kit: CommandKit): void {
  const { action, actor } = kit;
  const secrets = program.command('secrets').description('master keys: status, rotation, retiring old keys');

  secrets
    .command('status')
    .description('which master keys seal stored secrets, and how many values each')
    .action(
      action(async (rt, out) => {
        const s = await rt.services.secrets.status();
        out.result(s, () => renderStatus(s));
      }),
    );

  secrets
    .command('rotate')
    .description(
      're-seal every stored secret under the primary key (embedded key file: a new key is generated first); resumable',
    )
    .option('--batch-size <n>', 'values re-sealed between progress lines (1-10000)', wholeNumber, 100)
    .action(
      action(async (rt, out, o: { batchSize: number }) => {
        const r = await rt.services.secrets.rotate({ batchSize: o.batchSize, progress: out.progress }, actor());
        out.result(r, () => renderRotation(r));
      }),
    );

  secrets
    .command('retire-key <keyId>')
    .description('stop a previous key opening; refused while any value is still sealed under it')
    .action(
      action(async (rt, out, keyId: string) => {
        const r = await rt.services.secrets.retireKey(keyId, actor());
        out.result(r, () => renderRetirement(r));
      }),
    );
}
