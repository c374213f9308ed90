import type { AcmeCommand } from '../../command-parser.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { CommandContext } from './command-context.ts';

/** The domain subcommands that change something or open a form. */
export async function runDomainCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  await ctx.reply(errorMessage(`/acme ${command.kind.replace('_', ' ')} is not available in Slack yet; use the CLI.`));
}
