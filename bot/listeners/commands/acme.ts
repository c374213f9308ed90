import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../../core/ports/logger.ts';
import type { CoreServices } from '../../../core/services/index.ts';
import { pendingApprovalsMessage } from '../../blocks/approval.ts';
import {
  certificateListMessage,
  deviceListMessage,
  domainListMessage,
  profileListMessage,
} from '../../blocks/lists.ts';
import type { BotMessage } from '../../blocks/message.ts';
import { statusMessage } from '../../blocks/status.ts';
import { errorMessage, refusalMessage, usageMessage } from '../../blocks/usage.ts';
import { type AcmeCommand, isAdminCommand, parseAcmeCommand } from '../../command-parser.ts';
import { type ListenerDeps, isListed, notAnAdmin } from '../deps.ts';
import { replyError } from '../../reply-error.ts';
import { runBindingCommand } from './binding-commands.ts';
import { runCertCommand } from './cert-commands.ts';
import type { CommandContext } from './command-context.ts';
import { runDeviceCommand } from './device-commands.ts';
import { runDomainCommand } from './domain-commands.ts';
import { runProfileCommand } from './profile-commands.ts';
import { runSetupCommand } from './setup-commands.ts';

export const ACME_COMMAND = '/acme';

type ReadOnlyCommand = Extract<
  AcmeCommand,
  { kind: 'help' | 'usage' | 'status' | 'profile_list' | 'domain_list' | 'cert_list' | 'device_list' | 'approvals' }
>;

/** Subcommands that act or open a form, by area; each area answers through its own handler. */
const AREA_HANDLERS: Partial<
  Record<AcmeCommand['kind'], (ctx: CommandContext, command: AcmeCommand) => Promise<void>>
> = {
  setup: runSetupCommand,
  cert_new: runSetupCommand,
  profile_create: runProfileCommand,
  profile_show: runProfileCommand,
  device_add: runDeviceCommand,
  device_test: runDeviceCommand,
  domain_add: runDomainCommand,
  domain_test: runDomainCommand,
  domain_reconfigure: runDomainCommand,
  domain_endpoint: runDomainCommand,
  domain_dns: runDomainCommand,
  cert_request: runCertCommand,
  cert_show: runCertCommand,
  cert_renew: runCertCommand,
  cert_deploy: runCertCommand,
  cert_revoke: runCertCommand,
  binding_add: runBindingCommand,
  binding_remove: runBindingCommand,
  binding_list: runBindingCommand,
};

/** Runs one read-only subcommand against the core and builds its answer. */
export async function answer(services: CoreServices, command: ReadOnlyCommand): Promise<BotMessage> {
  switch (command.kind) {
    case 'help':
      return usageMessage();
    case 'usage':
      return usageMessage(command.problem);
    case 'status':
      return statusMessage(await services.status.summary());
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

async function deliver(
  log: Logger,
  respond: SlackCommandMiddlewareArgs['respond'],
  message: BotMessage,
  subcommand: string,
): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', ...message });
  } catch (err) {
    log.warn(
      { err: err instanceof Error ? err.message : String(err), subcommand },
      'slack /acme answer could not be delivered',
    );
  }
}

/**
 * `/acme …`: ack at once (Slack's 3 s), then answer ephemerally through the command's response_url.
 * Admin-only subcommands stop here for anyone not in SLACK_ADMINS, before the core is called.
 */
export function acmeCommandCallback(deps: ListenerDeps) {
  return async ({ command, ack, respond, client }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parseAcmeCommand(command.text);
    if (isAdminCommand(parsed) && !isListed(deps.admins, command.user_id)) {
      deps.log.warn(
        { user: command.user_id, subcommand: parsed.kind },
        'slack admin subcommand from a user not in SLACK_ADMINS; refused',
      );
      await deliver(deps.log, respond, refusalMessage(notAnAdmin(deps.admins)), parsed.kind);
      return;
    }
    const area = AREA_HANDLERS[parsed.kind];
    const reply = (message: BotMessage) => deliver(deps.log, respond, message, parsed.kind);
    let message: BotMessage;
    try {
      if (area) {
        const ctx: CommandContext = {
          ...deps,
          userId: command.user_id,
          teamId: command.team_id,
          channelId: command.channel_id,
          triggerId: command.trigger_id,
          client,
          respond,
          reply,
        };
        await area(ctx, parsed);
        return;
      }
      message = await answer(deps.services, parsed as ReadOnlyCommand);
    } catch (err) {
      message = errorMessage(
        replyError(err, deps.log, { what: 'slack /acme', fields: { subcommand: parsed.kind, user: command.user_id } }),
      );
    }
    await reply(message);
  };
}
