import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, types, ViewSubmitAction } from '@slack/bolt';
import { profileDetailMessage } from '../../blocks/profile-detail.ts';
import { setupDeviceView } from '../../modals/device-add.ts';
import {
  decodeProfileMetadata,
  type DirectorySummary,
  directoryUrlOf,
  encodeProfileMetadata,
  PROFILE_BLOCK,
  PROFILE_CONFIRM_VIEW,
  PROFILE_CREATE_VIEW,
  type ProfileDraft,
  type ProfileFormMetadata,
  tosAcceptedOf,
  profileCreatedView,
  profileStep1View,
  profileStep2View,
  profileWorkingView,
  parseProfileStep1,
  parseProfileStep2,
  serverOf,
  summarizeDirectory,
} from '../../modals/profile-create.ts';
import { errorText, slackActor } from '../approvers.ts';
import { type ListenerDeps, isListed, notAnAdmin } from '../deps.ts';
import { replyError } from '../../reply-error.ts';
import { admitNewObject } from './admit-new-object.ts';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

const explain = (deps: ListenerDeps, err: unknown, what: string, user: string): string =>
  replyError(err, deps.log, { what: `slack ${what}`, fields: { user } });

/** Replaces the modal after a "working…" ack; a closed modal is logged, not thrown. */
async function replaceView(deps: ListenerDeps, args: SubmitArgs, view: types.ModalView): Promise<void> {
  try {
    await args.client.views.update({ view_id: args.view.id, view });
  } catch (err) {
    deps.log.warn({ err: errorText(err) }, 'slack profile form could not be updated (closed?)');
  }
}

/**
 * Step 1 ("Validate"): admin re-checked (a submission is its own request), fields checked here, then the
 * CA's directory fetched after a fast "Validating…" ack, then step 2 (or step 1 again with the CA's error).
 */
export function profileStep1Callback(deps: ListenerDeps) {
  return async (args: SubmitArgs): Promise<void> => {
    const { ack, body, view } = args;
    const userId = body.user.id;
    // A fast store lookup answers a taken name inline, before the CA is asked.
    const draft = await admitNewObject(args, deps, {
      what: 'profile',
      nameBlock: PROFILE_BLOCK.name,
      parse: () => parseProfileStep1(view.state.values),
      nameOf: (d) => d.name,
      show: (name) => deps.services.profiles.show(name),
    });
    if (!draft) return;
    const { channel, setup } = decodeProfileMetadata(view.private_metadata);
    const directoryUrl = directoryUrlOf(draft);
    await ack({ response_action: 'update', view: profileWorkingView(`Validating ${directoryUrl}…`) });

    let next: types.ModalView;
    try {
      const directory = summarizeDirectory(await deps.services.profiles.validate(serverOf(draft)));
      const meta = { ...(channel ? { channel } : {}), ...(setup ? { setup } : {}), draft, directory };
      // Accepted on this view and no EAB to ask for: created now, one submission (decision 0035).
      next =
        tosAcceptedOf(view.state.values) && !directory.externalAccountRequired
          ? await createAndShow(deps, args, meta, draft, directory, undefined)
          : profileStep2View({ draft, directory, metadata: encodeProfileMetadata(meta) });
    } catch (err) {
      const message = `The CA at ${directoryUrl} could not be validated: ${explain(deps, err, 'profile validation', userId)}`;
      next = profileStep1View({
        draft,
        error: message,
        metadata: encodeProfileMetadata({ ...(channel ? { channel } : {}), ...(setup ? { setup } : {}) }),
        ...(setup ? { setup } : {}),
      });
    }
    await replaceView(deps, args, next);
  };
}

/**
 * Step 2 ("Create"): admin re-checked, ToS and EAB checked, then the ACME account registered after a fast
 * "Creating…" ack. The EAB HMAC key goes to the core only; on failure step 2 comes back without it.
 */
export function profileStep2Callback(deps: ListenerDeps) {
  return async (args: SubmitArgs): Promise<void> => {
    const { ack, body, view } = args;
    const userId = body.user.id;
    if (!isListed(deps.admins, userId)) {
      deps.log.warn({ user: userId }, 'slack profile confirmation submitted by a user not in SLACK_ADMINS; refused');
      await ack({ response_action: 'errors', errors: { [PROFILE_BLOCK.tos]: notAnAdmin(deps.admins, 'plain') } });
      return;
    }
    const meta = decodeProfileMetadata(view.private_metadata);
    if (!meta.draft || !meta.directory) {
      deps.log.warn({ user: userId }, 'slack profile confirmation without readable form state; refused');
      await ack({
        response_action: 'errors',
        errors: { [PROFILE_BLOCK.tos]: 'This form lost its state; close it and run /acme profile create again.' },
      });
      return;
    }
    const { draft, directory } = meta;
    const parsed = parseProfileStep2(view.state.values, directory.externalAccountRequired);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    const { eab } = parsed.value;
    await ack({
      response_action: 'update',
      view: profileWorkingView(
        `Creating profile ${draft.name}: registering an ACME account with ${directoryUrlOf(draft)}…`,
      ),
    });

    await replaceView(deps, args, await createAndShow(deps, args, meta, draft, directory, eab));
  };
}

/**
 * Registers the ACME account and says so: the created profile, or — opened by `/acme setup` — the next
 * step, the BIG-IP form. On failure, step 2 again with why (and without the EAB HMAC key).
 */
async function createAndShow(
  deps: ListenerDeps,
  args: SubmitArgs,
  meta: ProfileFormMetadata,
  draft: ProfileDraft,
  directory: DirectorySummary,
  eab: { kid: string; hmacKey: string } | undefined,
): Promise<types.ModalView> {
  const userId = args.body.user.id;
  try {
    const created = await deps.services.profiles.create(createInput(draft, eab), slackActor(userId));
    deps.log.info({ user: userId, profile: created.name }, 'slack profile created');
    if (meta.channel && !meta.setup) {
      try {
        await args.client.chat.postEphemeral({ channel: meta.channel, user: userId, ...profileDetailMessage(created) });
      } catch (err) {
        // The modal already shows the result; a channel the bot is not in just misses the copy.
        deps.log.warn({ err: errorText(err), user: userId }, 'slack profile confirmation could not be posted');
      }
    }
    if (meta.setup) return setupDeviceView(created.name, directory.termsOfService, meta.channel);
    return profileCreatedView(created, directory.termsOfService);
  } catch (err) {
    const message = `Nothing was created: ${explain(deps, err, 'profile creation', userId)}`;
    return profileStep2View({
      draft,
      directory,
      error: message,
      ...(eab ? { eabKid: eab.kid } : {}),
      metadata: encodeProfileMetadata(meta),
    });
  }
}

function createInput(draft: ProfileDraft, eab: { kid: string; hmacKey: string } | undefined) {
  return {
    name: draft.name,
    server: serverOf(draft),
    keySpec: draft.keySpec,
    contact: draft.contact,
    acceptTos: true,
    ...(eab ? { eab } : {}),
    renewDaysBefore: draft.renewDaysBefore,
    deployTime: draft.deployTime,
    deployTimeZone: draft.deployTimeZone,
    autoRenew: draft.autoRenew,
    autoDeploy: draft.autoDeploy,
    renewApproval: draft.renewApproval,
    deployApproval: draft.deployApproval,
  };
}

/** The profile forms' submissions. */
export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>({ callback_id: PROFILE_CREATE_VIEW, type: 'view_submission' }, profileStep1Callback(deps));
  app.view<ViewSubmitAction>(
    { callback_id: PROFILE_CONFIRM_VIEW, type: 'view_submission' },
    profileStep2Callback(deps),
  );
}
