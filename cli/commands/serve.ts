import { type Command, Option } from 'commander';
import { CoreError } from '../../core/errors.ts';
import type { CommandKit } from '../command-kit.ts';
import type { Role } from '../role.ts';

/** `serve`: run the service in this process. */
export function registerServeCommand(program: Command, kit: CommandKit): void {
  program
    .command('serve')
    .description('run the service (responder, scheduler, Slack bot)')
    .addOption(
      new Option('--role <role>', 'which role to run').choices(['all', 'responder', 'worker', 'bot']).default('all'),
    )
    .action(
      kit.withoutRuntime(async (opts: { role: Role }) => {
        if (!kit.serve) throw new CoreError('conflict', 'the service is already running on this data directory');
        await kit.serve(opts.role);
      }),
    );
}
