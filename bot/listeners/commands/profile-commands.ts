import { encodeProfileMetadata, profileStep1View } from '../../modals/profile-create.ts';
import { profileDetailMessage } from '../../blocks/profile-detail.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { errorText } from '../approvers.ts';
import type { CommandContext } from './command-context.ts';

/**
 * `profile create` opens the form (the dispatcher already refused non-admins; the form's submissions check
 * again); `profile show NAME` answers with the profile's settings. Core errors propagate to the dispatcher,
 * which answers them.
 */
export async function runProfileCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  switch (command.kind) {
    case 'profile_create': {
      try {
        await ctx.client.views.open({
          trigger_id: ctx.triggerId,
          view: profileStep1View({ metadata: encodeProfileMetadata({ channel: ctx.channelId }) }),
        });
      } catch (err) {
        ctx.log.warn({ err: errorText(err), user: ctx.userId }, 'slack profile form could not be opened');
        await ctx.reply(errorMessage('The profile form could not be opened; run /acme profile create again.'));
      }
      return;
    }
    case 'profile_show':
      await ctx.reply(profileDetailMessage(await ctx.services.profiles.show(command.name)));
      return;
    default:
      await ctx.reply(errorMessage(`/acme ${command.kind.replace('_', ' ')} is not a profile subcommand.`));
  }
}
