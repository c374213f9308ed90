import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-io.ts';
import { createCommandKit } from './command-kit.ts';
import { registerApprovalCommands } from './commands/approval.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerBindingCommands } from './commands/binding.ts';
import { registerCertCommands } from './commands/cert.ts';
import { registerDeviceCommands } from './commands/device.ts';
import { registerDomainCommands } from './commands/domain.ts';
import { registerJobCommands } from './commands/jobs.ts';
import { registerProfileCommands } from './commands/profile.ts';
import { registerSecretsCommands } from './commands/secrets.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStatusCommands } from './commands/status.ts';
import { createOutput, type Output, wantsJson } from './output.ts';

/** The command groups, in the order `--help` lists them. */
const COMMAND_GROUPS = [
  registerServeCommand,
  registerProfileCommands,
  registerDomainCommands,
  registerCertCommands,
  registerDeviceCommands,
  registerBindingCommands,
  registerJobCommands,
  registerApprovalCommands,
  registerStatusCommands,
  registerSecretsCommands,
  registerBackupCommands,
];

/** Runs one CLI invocation and returns its exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  // Known before parsing, so that a usage error, which stops the parse, is JSON too.
  const json = wantsJson(argv);
  const out = createOutput(json, io);
  // With --json, commander's own text (usage errors, help) is kept back and turned into one JSON document.
  let commanderText = '';
  const keep = (t: string) => {
    commanderText += t;
  };
  const program = new Command('bigip-acme')
    .description('ACME certificates for F5 BIG-IP: CA profiles, domains, challenges, certificates, devices, deploys')
    .option('--json', 'machine-readable output on stdout, also for errors and --help')
    .showHelpAfterError()
    .configureOutput(
      json
        ? { writeOut: keep, writeErr: keep, outputError: () => {} }
        : { writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) },
    )
    .exitOverride();
  const kit = createCommandKit(io, out, (code) => {
    exitCode = code;
  });
  for (const register of COMMAND_GROUPS) register(program, kit);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return usageOutcome(err, json ? commanderText : null, out);
    return out.fail(err);
  }
  return exitCode;
}

/**
 * Commander reports usage errors and --help through exitOverride. In text mode it has already written them
 * (the error, then the help, on stderr; asked-for help on stdout). With --json, asked-for help is
 * `{"help": "<text>"}` and everything else is `{"error":{"code":"usage","message"}}`; the exit code is 2.
 */
function usageOutcome(err: CommanderError, keptText: string | null, out: Output): number {
  const asked = err.exitCode === 0;
  if (keptText === null) return asked ? 0 : 2;
  if (asked) {
    out.result({ help: keptText }, () => keptText);
    return 0;
  }
  if (err.code === 'commander.help') {
    // A group without its command (`cert`): commander shows the group's help, whose first line is its usage.
    const usage = /^Usage: (.*)$/m.exec(keptText)?.[1] ?? 'bigip-acme [options] [command]';
    return out.usage(`missing command: ${usage} (see --help)`);
  }
  return out.usage(err.message.replace(/^error: /, ''));
}
