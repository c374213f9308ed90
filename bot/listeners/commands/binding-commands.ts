import { bindingListMessage } from '../../blocks/bindings.ts';
import { type BotMessage, escapeMrkdwn as e, section } from '../../blocks/message.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { bindingAddView } from '../../modals/binding-add.ts';
import { errorText, slackActor } from '../approvers.ts';
import { isListed } from '../deps.ts';
import type { CommandContext } from './command-context.ts';

type BindingCommand = Extract<AcmeCommand, { kind: 'binding_add' | 'binding_remove' | 'binding_list' }>;

/**
 * `/acme binding add|remove|list`: the CLI's `binding` commands in Slack, over the same BindingService
 * (every rule — the profile path, one certificate per profile, the device check — is the core's).
 */
export async function runBindingCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  const c = command as BindingCommand;
  switch (c.kind) {
    case 'binding_add':
      return openAddForm(ctx, c.certificate);
    case 'binding_remove': {
      await ctx.services.bindings.remove(
        { certificate: c.certificate, device: c.device, profile: c.profile },
        slackActor(ctx.userId),
      );
      const text = `Unbound *${e(c.certificate)}* from \`${e(c.profile)}\` on *${e(c.device)}*; the profile keeps what it serves.`;
      return ctx.reply({ text, blocks: [section(`:white_check_mark: ${text}`)] });
    }
    case 'binding_list':
      return ctx.reply(await bindingList(ctx, c.certificate));
  }
}

export async function bindingList(
  ctx: Pick<CommandContext, 'services' | 'admins' | 'userId'>,
  certificate: string | undefined,
): Promise<BotMessage> {
  const rows = await ctx.services.bindings.list(certificate ? { certificate } : {});
  return bindingListMessage(rows, { certificate, admin: isListed(ctx.admins, ctx.userId) });
}

/** Opens the add form for a certificate that exists; the device list is the core's. */
export async function openAddForm(
  ctx: Pick<CommandContext, 'services' | 'client' | 'triggerId' | 'log' | 'userId' | 'reply'>,
  certificate: string,
): Promise<void> {
  const cert = await ctx.services.certificates.show(certificate);
  const devices = (await ctx.services.devices.list()).map((d) => d.name);
  if (devices.length === 0) {
    await ctx.reply(
      errorMessage('There is no BIG-IP device yet; an admin adds one with /acme device add. Nothing was bound.'),
    );
    return;
  }
  try {
    await ctx.client.views.open({
      trigger_id: ctx.triggerId,
      view: bindingAddView({ certificate: cert.name, devices }),
    });
  } catch (err) {
    ctx.log.warn({ err: errorText(err), user: ctx.userId }, 'slack binding form could not be opened');
    await ctx.reply(
      errorMessage('The binding form could not be opened (Slack allows 3 seconds); run the command again.'),
    );
  }
}
