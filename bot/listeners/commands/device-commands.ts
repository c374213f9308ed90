import { deviceTestingMessage, deviceTestMessage } from '../../blocks/device-test.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { deviceAddView, encodeDeviceMetadata } from '../../modals/device-add.ts';
import { errorText, slackActor } from '../approvers.ts';
import type { CommandContext } from './command-context.ts';

/**
 * `device add` opens the form; `device test NAME` says "Testing…" at once, then which layer failed, if any.
 * Both are admin-only (the dispatcher refused everyone else). Core errors propagate to the dispatcher.
 */
export async function runDeviceCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  switch (command.kind) {
    case 'device_add': {
      try {
        await ctx.client.views.open({
          trigger_id: ctx.triggerId,
          view: deviceAddView({ metadata: encodeDeviceMetadata({ channel: ctx.channelId }) }),
        });
      } catch (err) {
        ctx.log.warn({ err: errorText(err), user: ctx.userId }, 'slack device form could not be opened');
        await ctx.reply(errorMessage('The device form could not be opened; run /acme device add again.'));
      }
      return;
    }
    case 'device_test': {
      // Looked up first, so an unknown name is answered without a misleading "Testing…".
      const device = await ctx.services.devices.show(command.name);
      await ctx.reply(deviceTestingMessage(device.name));
      const result = await ctx.services.devices.test(device.name, slackActor(ctx.userId));
      await ctx.reply(deviceTestMessage(device.name, result));
      return;
    }
    default:
      await ctx.reply(errorMessage(`/acme ${command.kind.replace('_', ' ')} is not a device subcommand.`));
  }
}
