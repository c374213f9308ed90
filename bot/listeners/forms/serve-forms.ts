import type {
  AllMiddlewareArgs,
  App,
  BlockSuggestion,
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
  types,
  ViewSubmitAction,
} from '@slack/bolt';
import type { CoreServices } from '../../../core/services/index.ts';
import {
  clientSslOptions,
  decodeServeMetadata,
  NEW_PROFILE_PREFIX,
  parseServeRequest,
  SERVE_BLOCK,
  SERVE_REQUEST_VIEW,
  type ServeFormMetadata,
  serveRequestedView,
  serveRequestView,
  serveWorkingView,
} from '../../modals/serve-request.ts';
import { VALUE } from '../../modals/elements.ts';
import { replyError } from '../../reply-error.ts';
import { errorText, slackActor } from '../approvers.ts';
import type { ListenerDeps } from '../deps.ts';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;
type SuggestArgs = AllMiddlewareArgs & SlackOptionsMiddlewareArgs<'block_suggestion'>;

/** Slack waits 3 s for options; the device gets most of that, then the picker shows nothing rather than hang. */
const OPTIONS_WITHIN_MS = 2_500;

/** The form with the profiles and devices as stored now; `metadata` preselects what `/acme setup` made. */
export async function serveRequestViewFor(
  services: CoreServices,
  metadata: ServeFormMetadata,
  extra: { notice?: string; error?: string; names?: string; clientSsl?: string } = {},
): Promise<types.ModalView> {
  const [profiles, devices] = await Promise.all([services.profiles.list(), services.devices.list()]);
  return serveRequestView({
    metadata,
    profiles: profiles.map((p) => p.name),
    devices: devices.map((d) => d.name),
    ...extra,
  });
}

/**
 * The client-ssl picker's options, read live over iControl from the device chosen in the form (or the one
 * `/acme setup` just added). Nothing is written; a device that does not answer in time gives no options.
 */
export function clientSslOptionsCallback(deps: ListenerDeps) {
  return async ({ ack, body }: SuggestArgs): Promise<void> => {
    const suggestion = body as BlockSuggestion & {
      view?: { private_metadata?: string; state?: { values?: Record<string, Record<string, unknown>> } };
    };
    const chosen = suggestion.view?.state?.values?.[SERVE_BLOCK.device]?.[VALUE] as
      | { selected_option?: { value?: string } | null }
      | undefined;
    const device = chosen?.selected_option?.value ?? decodeServeMetadata(suggestion.view?.private_metadata).device;
    if (!device) {
      await ack({ options: [] });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const paths = await Promise.race([
        deps.services.bindings.clientSslProfiles(device),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${device} did not list its profiles in time`)), OPTIONS_WITHIN_MS);
        }),
      ]);
      await ack({ options: clientSslOptions(paths, body.value ?? '') });
    } catch (err) {
      deps.log.warn(
        { err: errorText(err), device, user: body.user.id },
        'slack client-ssl profiles could not be listed',
      );
      await ack({ options: [] });
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Submit: fields checked inline, then a "working" view at once (publishing and testing takes seconds), then
 * the core's one use case (which checks everything before writing); the form comes back filled in with the
 * reason when it refuses.
 */
export function serveRequestSubmitCallback(deps: ListenerDeps) {
  return async (args: SubmitArgs): Promise<void> => {
    const { ack, body, view, client } = args;
    const userId = body.user.id;
    const parsed = parseServeRequest(view.state.values);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    const request = parsed.value;
    // Acked before the core is touched (the profile's domains are read by the use case): a refusal comes
    // back as the form, filled in as submitted, with the reason on top.
    await ack({ response_action: 'update', view: serveWorkingView(request.names) });
    const meta = decodeServeMetadata(view.private_metadata);

    let next: types.ModalView;
    try {
      const result = await deps.services.requestToServe.request(request, slackActor(userId));
      deps.log.info(
        { user: userId, certificate: result.certificate.name },
        'slack certificate request stored with its binding; waiting for an approver',
      );
      next = serveRequestedView(result);
    } catch (err) {
      const text = replyError(err, deps.log, {
        what: 'slack certificate request',
        outcome: 'Nothing was requested.',
        fields: { user: userId },
      });
      next = await serveRequestViewFor(
        deps.services,
        { ...meta, profile: request.profile, device: request.device },
        {
          error: text,
          names: request.names.join('\n'),
          clientSsl: request.createProfile ? `${NEW_PROFILE_PREFIX}${request.parent ?? ''}` : request.clientSslProfile,
        },
      );
    }
    try {
      await client.views.update({ view_id: view.id, view: next });
    } catch (err) {
      deps.log.warn({ err: errorText(err) }, 'slack certificate form could not be updated (closed?)');
    }
  };
}

export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(
    { callback_id: SERVE_REQUEST_VIEW, type: 'view_submission' },
    serveRequestSubmitCallback(deps),
  );
  app.options<'block_suggestion'>({ block_id: SERVE_BLOCK.clientSsl }, clientSslOptionsCallback(deps));
}
