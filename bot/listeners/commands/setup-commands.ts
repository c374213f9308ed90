import type { types } from '@slack/bolt';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { encodeProfileMetadata, profileStep1View } from '../../modals/profile-create.ts';
import { serveRequestViewFor } from '../forms/serve-forms.ts';
import { errorText } from '../approvers.ts';
import type { CommandContext } from './command-context.ts';

/**
 * `/acme setup` (admins): the CA profile form, whose submission leads to the BIG-IP form and then to the
 * request form — one modal, three submissions (decision 0035). `/acme cert new`: the request form alone.
 */
export async function runSetupCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  if (command.kind === 'setup') {
    await open(
      ctx,
      profileStep1View({ metadata: encodeProfileMetadata({ channel: ctx.channelId, setup: true }), setup: true }),
      'setup',
    );
    return;
  }
  if (command.kind !== 'cert_new') {
    await ctx.reply(errorMessage(`/acme ${command.kind.replace('_', ' ')} is not a setup subcommand.`));
    return;
  }
  if ((await ctx.services.profiles.list()).length === 0) {
    await ctx.reply(
      errorMessage('There is no CA profile yet; an admin starts with /acme setup. Nothing was requested.'),
    );
    return;
  }
  const view = await serveRequestViewFor(ctx.services, {
    channel: ctx.channelId,
    ...(command.profile ? { profile: command.profile } : {}),
  });
  await open(ctx, view, 'cert new');
}

async function open(ctx: CommandContext, view: types.ModalView, what: string): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: ctx.triggerId, view });
  } catch (err) {
    ctx.log.warn({ err: errorText(err), user: ctx.userId }, `slack ${what} form could not be opened`);
    await ctx.reply(errorMessage(`The form could not be opened; run /acme ${what} again.`));
  }
}
