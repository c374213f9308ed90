import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/ports/logger.ts';
import type { CoreServices } from '../../../core/services/index.ts';
import { pendingApprovalsMessage } from '../../blocks/approval.ts';
import { certificateListMessage, deviceListMessage, domainListMessage, profileListMessage } from '../../blocks/lists.ts';
import type { BotMessage } from '../../blocks/message.ts';
import { statusMessage } from '../../blocks/status.ts';
import { errorMessage, usageMessage } from '../../blocks/usage.ts';
import { type AcmeCommand, parseAcmeCommand } from '../../command-parser.ts';
import { collectStatus } from '../../status-summary.ts';

export const ACME_COMMAND = '/acme';

export interface CommandDeps {
  services: CoreServices;
  log: Logger;
}

/** Runs one parsed subcommand against the core and builds its answer. Read-only subcommands only. */
export async function answer(services: CoreServices, command: AcmeCommand): Promise<BotMessage> {
  switch (command.kind) {
    case 'help':
      return usageMessage();
    case 'usage':
      return usageMessage(command.problem);
    case 'status':
      return statusMessage(await collectStatus(services));
    case 'profile_list':
      return profileListMessage(await services.profiles.list());
    case 'domain_list':
      return domainListMessage(await services.domains.list(command.profile), command.profile);
    case 'cert_list':
      return certificateListMessage(await services.certificates.list(command.profile), command.profile);
    case 'device_list':
      return deviceListMessage(await services.devices.list());
    case 'approvals':
      return pendingApprovalsMessage(await services.approvals.list('pending'));
  }
}

/** `/acme …`: ack at once (Slack's 3 s), then answer ephemerally through the command's response_url. */
export function acmeCommandCallback(deps: CommandDeps) {
  return async ({ command, ack, respond }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parseAcmeCommand(command.text);
    let message: BotMessage;
    try {
      message = await answer(deps.services, parsed);
    } catch (err) {
      if (isCoreError(err)) {
        deps.log.info({ code: err.code, subcommand: parsed.kind, user: command.user_id }, 'slack /acme refused by core');
        message = errorMessage(err.message);
      } else {
        deps.log.error({ err: err instanceof Error ? err.message : String(err), subcommand: parsed.kind, user: command.user_id }, 'slack /acme failed');
        message = errorMessage('Something went wrong on the bigip-acme side; it is in the service log.');
      }
    }
    try {
      await respond({ response_type: 'ephemeral', ...message });
    } catch (err) {
      deps.log.warn({ err: err instanceof Error ? err.message : String(err), subcommand: parsed.kind }, 'slack /acme answer could not be delivered');
    }
  };
}
