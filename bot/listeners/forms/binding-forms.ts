import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  RespondFn,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  StaticSelectAction,
  ViewSubmitAction,
} from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import { BINDING_ADD_ACTION, BINDING_REMOVE_ACTION } from '../../blocks/bindings.ts';
import { DEPLOY_ACTION } from '../../blocks/certificate-detail.ts';
import type { BotMessage } from '../../blocks/message.ts';
import { errorMessage } from '../../blocks/usage.ts';
import {
  BINDING_ADD_VIEW,
  BINDING_BLOCK,
  type BindingAddFormInput,
  bindingAddedView,
  bindingAddView,
  DEVICE_PICK_ACTION,
  decodeBindingMetadata,
  readBindingAdd,
} from '../../modals/binding-add.ts';
import type { StateValues } from '../../modals/form-values.ts';
import { replyError } from '../../reply-error.ts';
import { errorText, slackActor } from '../approvers.ts';
import { bindingList, openAddForm } from '../commands/binding-commands.ts';
import { runDeploy } from '../commands/cert-commands.ts';
import type { CommandContext } from '../commands/command-context.ts';
import { isListed, type ListenerDeps, notAnAdmin } from '../deps.ts';

/**
 * The binding form (device pick → its client-ssl profiles → bind), the Remove and Add buttons of
 * `/acme binding list`, and the Deploy buttons (certificate detail, issuance messages). Every one is an
 * admin action, re-checked on each request: a click or a submission is its own request.
 */
type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;
type SelectArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>>;
type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

/** The form as it stands, with the picked device's profiles (or why they could not be listed). */
async function formFor(deps: ListenerDeps, certificate: string, device: string | null): Promise<BindingAddFormInput> {
  const devices = (await deps.services.devices.list()).map((d) => d.name);
  if (!device) return { certificate, devices };
  try {
    return {
      certificate,
      devices,
      device: { name: device, profiles: await deps.services.devices.clientSslProfiles(device) },
    };
  } catch (err) {
    const problem = replyError(err, deps.log, {
      what: 'slack binding form: list client-ssl profiles',
      fields: { device },
    });
    return { certificate, devices, device: { name: device, problem } };
  }
}

/** A device was picked: list its client-ssl profiles over iControl and show them in the form. */
export function devicePickCallback(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: SelectArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view || view.callback_id !== BINDING_ADD_VIEW) return;
    const certificate = decodeBindingMetadata(view.private_metadata);
    if (!certificate || !isListed(deps.admins, body.user.id)) return;
    try {
      const form = await formFor(deps, certificate, action.selected_option?.value ?? null);
      await client.views.update({ view_id: view.id, hash: view.hash, view: bindingAddView(form) });
    } catch (err) {
      // hash_conflict: the user picked again meanwhile; that pick's own update wins.
      deps.log.warn({ err: errorText(err), user: body.user.id }, 'slack binding form could not be updated');
    }
  };
}

/** "Bind": admin re-checked, fields read, then the core's add (which checks the profile on the device). */
export function bindingAddSubmitCallback(deps: ListenerDeps) {
  return async ({ ack, body, view }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    if (!isListed(deps.admins, userId)) {
      deps.log.warn({ user: userId }, 'slack binding form submitted by a user not in SLACK_ADMINS; refused');
      await ack({ response_action: 'errors', errors: { [BINDING_BLOCK.device]: notAnAdmin(deps.admins, 'plain') } });
      return;
    }
    const certificate = decodeBindingMetadata(view.private_metadata);
    const values = view.state.values as StateValues;
    const parsed = readBindingAdd(values);
    if (!certificate || !parsed.ok) {
      await ack({
        response_action: 'errors',
        errors: parsed.ok
          ? { [BINDING_BLOCK.device]: 'This form names no certificate; run /acme binding add CERT again.' }
          : parsed.errors,
      });
      return;
    }
    const f = parsed.value;
    try {
      const b = await deps.services.bindings.add(
        {
          certificate,
          device: f.device,
          profile: f.profile,
          createProfile: f.createProfile,
          ...(f.parent ? { parent: f.parent } : {}),
        },
        slackActor(userId),
      );
      deps.log.info({ user: userId, certificate: b.certificateName, device: b.deviceName }, 'slack binding added');
      await ack({ response_action: 'update', view: bindingAddedView(b) });
    } catch (err) {
      const text = replyError(err, deps.log, {
        what: 'slack binding add',
        outcome: 'Nothing was bound.',
        fields: { user: userId, certificate },
      });
      const block =
        isCoreError(err) && err.code === 'not_found' && /no device/.test(err.message)
          ? BINDING_BLOCK.device
          : values[BINDING_BLOCK.profile] !== undefined && !f.createProfile
            ? BINDING_BLOCK.profile
            : BINDING_BLOCK.newProfile;
      await ack({ response_action: 'errors', errors: { [block]: text } });
    }
  };
}

/**
 * How a click answers. On an ephemeral message (a command's answer) through its response_url, replacing
 * it; on a channel or DM message in a thread under it (posted once, then edited), so the message clicked
 * (an issuance notice) stays as it was.
 */
function clickContext(args: ButtonArgs, deps: ListenerDeps): CommandContext {
  const { body, client } = args;
  const container = body.container as { channel_id?: unknown; message_ts?: unknown; is_ephemeral?: unknown };
  const channel = body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : '');
  const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
  let respond: RespondFn = args.respond;
  let reply = async (m: BotMessage) => {
    await args.respond({ response_type: 'ephemeral', replace_original: true, ...m });
  };
  if (container['is_ephemeral'] !== true && channel && ts) {
    let posted: string | undefined;
    reply = async (m) => {
      const res = await client.chat.postMessage({ channel, thread_ts: ts, ...m });
      posted = typeof res.ts === 'string' ? res.ts : undefined;
    };
    // runDeploy edits its first answer through `respond`; here that is the thread reply (chat.update).
    respond = (async (m: BotMessage) => {
      if (posted) await client.chat.update({ channel, ts: posted, text: m.text, blocks: m.blocks });
      else await reply(m);
    }) as unknown as RespondFn;
  }
  const safeReply = async (m: BotMessage) => {
    try {
      await reply(m);
    } catch (err) {
      deps.log.warn({ err: errorText(err) }, 'slack button answer could not be delivered');
    }
  };
  return {
    ...deps,
    userId: body.user.id,
    teamId: body.user.team_id ?? '',
    channelId: channel,
    triggerId: body.trigger_id,
    client,
    respond,
    reply: safeReply,
  };
}

/** The admin gate of every button here; answers the clicker and returns null when refused. */
async function admitAdmin(args: ButtonArgs, deps: ListenerDeps, what: string): Promise<CommandContext | null> {
  const ctx = clickContext(args, deps);
  if (isListed(deps.admins, ctx.userId)) return ctx;
  deps.log.warn({ user: ctx.userId }, `slack ${what} click from a user not in SLACK_ADMINS; refused`);
  try {
    await args.respond({
      response_type: 'ephemeral',
      replace_original: false,
      ...errorMessage(notAnAdmin(deps.admins)),
    });
  } catch (err) {
    deps.log.warn({ err: errorText(err) }, 'slack refusal could not be delivered');
  }
  return null;
}

async function answerFailure(ctx: CommandContext, err: unknown, what: string): Promise<void> {
  await ctx.reply(errorMessage(replyError(err, ctx.log, { what, fields: { user: ctx.userId } })));
}

/** Deploy button: the same path as `/acme cert deploy NAME`. */
export function deployClickCallback(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const ctx = await admitAdmin(args, deps, 'deploy');
    if (!ctx) return;
    const name = args.action.value ?? '';
    try {
      await runDeploy(ctx, name);
    } catch (err) {
      await answerFailure(ctx, err, 'slack deploy button');
    }
  };
}

/** Remove button of `/acme binding list`: the binding by id, removed by the core; the list is shown again. */
export function bindingRemoveClickCallback(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const ctx = await admitAdmin(args, deps, 'binding remove');
    if (!ctx) return;
    try {
      const binding = (await deps.services.bindings.list()).find((b) => b.id === args.action.value);
      if (!binding) {
        await ctx.reply(errorMessage('That binding is gone already (removed meanwhile); nothing changed.'));
        return;
      }
      await deps.services.bindings.remove(
        { certificate: binding.certificateName, device: binding.deviceName, profile: binding.profilePath },
        slackActor(ctx.userId),
      );
      await ctx.reply(await bindingList(ctx, binding.certificateName));
    } catch (err) {
      await answerFailure(ctx, err, 'slack binding remove');
    }
  };
}

/** Add button of `/acme binding list CERT`: opens the form. */
export function bindingAddClickCallback(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const ctx = await admitAdmin(args, deps, 'binding add');
    if (!ctx) return;
    try {
      await openAddForm(ctx, args.action.value ?? '');
    } catch (err) {
      await answerFailure(ctx, err, 'slack binding add');
    }
  };
}

export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(BINDING_ADD_VIEW, bindingAddSubmitCallback(deps));
  app.action<BlockAction<StaticSelectAction>>(DEVICE_PICK_ACTION, devicePickCallback(deps));
  app.action<BlockAction<ButtonAction>>(DEPLOY_ACTION, deployClickCallback(deps));
  app.action<BlockAction<ButtonAction>>(BINDING_REMOVE_ACTION, bindingRemoveClickCallback(deps));
  app.action<BlockAction<ButtonAction>>(BINDING_ADD_ACTION, bindingAddClickCallback(deps));
}
