import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  StaticSelectAction,
  ViewSubmitAction,
} from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import { noProgress } from '../../../core/services/core-deps.ts';
import type { CertificateView } from '../../../core/issuance/certificate-service.ts';
import type { CoreServices } from '../../../core/services/index.ts';
import {
  CERT_REQUEST_VIEW,
  type CertRequestFields,
  certRequestSubmittedView,
  certRequestView,
  checkCertRequest,
  coreErrorBlock,
  PROFILE_ACTION,
  PROFILE_BLOCK,
  type ProfileChoice,
  readCertRequest,
} from '../../modals/cert-request.ts';
import { errorText, slackActor } from '../approvers.ts';
import { replyError } from '../../reply-error.ts';
import type { ListenerDeps } from '../deps.ts';

/**
 * The CSR form's listeners. Requesting is open to anyone in the workspace (the command is not admin-only):
 * the request only waits for an approver, who re-checks it in the approval message, and nothing is ordered
 * before that. Each submission is checked against the profile and domains as stored now.
 */
type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;
type SelectArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>>;
type Values = Parameters<typeof readCertRequest>[0];

/** A profile with its valid domains (the ones a certificate may name now), or null when there is none by that name. */
export async function profileWithDomains(
  services: CoreServices,
  name: string | null | undefined,
): Promise<(ProfileChoice & { domains: string[] }) | null> {
  if (!name) return null;
  const profile = (await services.profiles.list()).find((p) => p.name === name);
  if (!profile) return null;
  const domains = (await services.domains.list(profile.name)).filter((d) => d.status === 'valid').map((d) => d.name);
  return { name: profile.name, keySpec: profile.keySpec, domains };
}

export async function profileChoices(services: CoreServices): Promise<ProfileChoice[]> {
  return (await services.profiles.list()).map((p) => ({ name: p.name, keySpec: p.keySpec }));
}

/** Submit: check, ask the core (which checks again and stores the request with a pending approval), show the result. */
export function certRequestSubmitCallback(deps: ListenerDeps) {
  return async ({ ack, body, view }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    let fields: CertRequestFields | null = null;
    let cert: CertificateView;
    try {
      fields = readCertRequest(view.state.values as Values);
      const profile = await profileWithDomains(deps.services, fields.profile);
      const checked = checkCertRequest(fields, profile);
      if (!checked.ok) {
        await ack({ response_action: 'errors', errors: checked.errors });
        return;
      }
      cert = await deps.services.certificates.request(checked.input, slackActor(userId), noProgress, {
        approval: true,
      });
    } catch (err) {
      const text = replyError(err, deps.log, {
        what: 'slack certificate request',
        outcome: 'Nothing was requested.',
        fields: { user: userId },
      });
      const block = isCoreError(err) && fields ? coreErrorBlock(err, fields) : PROFILE_BLOCK;
      await ack({ response_action: 'errors', errors: { [block]: text } });
      return;
    }
    deps.log.info(
      { user: userId, certificate: cert.name },
      'slack certificate request stored; waiting for an approver',
    );
    await ack({
      response_action: 'update',
      view: certRequestSubmittedView({
        name: cert.name,
        names: [cert.commonName, ...cert.sans],
        profileName: cert.profileName,
        partition: cert.partition,
        keySpec: cert.keySpec,
      }),
    });
  };
}

/** The profile select changed: re-render the form with that profile's domains (other typed values stay). */
export function certRequestProfileCallback(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: SelectArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view || view.callback_id !== CERT_REQUEST_VIEW) return;
    try {
      const picked = action.selected_option?.value ?? null;
      const fields = readCertRequest(view.state.values as Values);
      const selected = await profileWithDomains(deps.services, picked);
      await client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: certRequestView({
          profiles: await profileChoices(deps.services),
          selected,
          values: { partition: fields.partition, ...(fields.name ? { name: fields.name } : {}) },
          ...(picked && !selected ? { notice: `There is no CA profile named "${picked}" any more.` } : {}),
        }),
      });
    } catch (err) {
      // hash_conflict: the user changed the form again meanwhile; that change's own update wins.
      deps.log.warn({ err: errorText(err), user: body.user.id }, 'slack certificate form could not be updated');
    }
  };
}

export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(CERT_REQUEST_VIEW, certRequestSubmitCallback(deps));
  app.action<BlockAction<StaticSelectAction>>(PROFILE_ACTION, certRequestProfileCallback(deps));
}
