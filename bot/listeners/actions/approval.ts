import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { isApprovalId } from '../../../core/domain/validation/approval-id.ts';
import type { ApprovalView } from '../../../core/approvals/approval-service.ts';
import type { Approved } from '../../../core/approvals/approve-and-issue.ts';
import {
  type ApprovalSource,
  approvalMessage,
  DENY_VIEW,
  type IssuanceStatus,
  pendingApprovalsMessage,
  REASON_ACTION,
  REASON_BLOCK,
  sourceOfBlockId,
} from '../../blocks/approval.ts';
import { deployActions } from '../../blocks/certificate-detail.ts';
import { decodePages } from '../../blocks/home.ts';
import { type BotMessage, section } from '../../blocks/message.ts';
import { input, modal } from '../../modals/elements.ts';
import {
  type ApprovalDeps,
  decidedMessage,
  encodeDenyMetadata,
  errorText,
  mayDecide,
  NOT_AN_APPROVAL,
  slackActor,
} from '../approvers.ts';
import { replyError } from '../../reply-error.ts';
import { syncApprovalCopies } from '../approval-copies.ts';
import { publishHome } from '../events/app-home.ts';
import { progressUpdates } from '../progress-updates.ts';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

/** A click on the App Home tab: it has no response_url, and what changes is the dashboard, not a message. */
function homeClick(args: ButtonArgs): { pages: string | undefined } | null {
  const view = (args.body as { view?: { type?: string; private_metadata?: string } }).view;
  return view?.type === 'home' ? { pages: view.private_metadata } : null;
}

/** Answers the clicker only: ephemerally under the message, or, for a Home-tab click, in the app's DM. */
async function tell(args: ButtonArgs, deps: ApprovalDeps, text: string): Promise<void> {
  try {
    if (homeClick(args)) await args.client.chat.postMessage({ channel: args.body.user.id, text });
    else await args.respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (err) {
    deps.log.warn({ err: errorText(err) }, 'slack approval answer could not be delivered');
  }
}

/**
 * The checks every decision click passes before the core sees it: the clicker is an approver, and the
 * button names an approval. Answers the clicker and returns null when either fails.
 */
async function admitClick(
  args: ButtonArgs,
  deps: ApprovalDeps,
  what: 'approval' | 'denial',
): Promise<{ userId: string; id: string } | null> {
  const userId = args.body.user.id;
  const id = args.action.value ?? '';
  const may = await mayDecide(deps, userId);
  if (!may.ok) {
    deps.log.warn({ user: userId, approval: id }, `slack ${what} click from a user who may not decide; refused`);
    await tell(args, deps, may.message);
    return null;
  }
  if (!isApprovalId(id)) {
    deps.log.warn({ user: userId }, 'slack approval click without an approval id; refused');
    await tell(args, deps, NOT_AN_APPROVAL);
    return null;
  }
  return { userId, id };
}

/**
 * Approve: ack at once, then re-check the clicker against SLACK_APPROVERS and let the core decide (it
 * reloads the approval by id, refuses self-approval, and its compare-and-set makes a second click a no-op).
 */
export function approveCallback(deps: ApprovalDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, action } = args;
    await ack();
    const clicked = await admitClick(args, deps, 'approval');
    if (!clicked) return;
    const { userId, id } = clicked;
    let approved: Approved;
    try {
      approved = await deps.services.approveAndIssue.approve(id, slackActor(userId));
    } catch (err) {
      const text = replyError(err, deps.log, {
        what: 'slack approval',
        outcome: 'Nothing was decided.',
        fields: { user: userId, approval: id },
      });
      await tell(args, deps, text);
      return;
    }
    const { approval: decided, issue, revoke } = approved;
    const source = sourceOfBlockId(action.block_id);
    // Every other copy (the channel's, each approver's DM) shows the decision at once.
    await syncApprovalCopies(deps, args.client, decided, { clicked: clickedMessage(args) });
    if (revoke) {
      // Revoking talks to the CA (and with a reissue to the BIG-IPs); the approver is told how it ended.
      revoke()
        .then((r) =>
          tell(
            args,
            deps,
            `Revoked ${decided.certificateName}: serial ${r.serial} (${r.reason})${r.replacement ? `; replacement serial ${r.replacement.serial} deployed` : ''}.`,
          ),
        )
        .catch((err) =>
          tell(args, deps, replyError(err, deps.log, { what: 'slack-approved revocation', fields: { approval: id } })),
        );
    }
    if (issue) {
      // Issuing talks to the CA for seconds to minutes; the click is long acked, and the message shows how it goes.
      issueInBackground(args, deps, { decided, issue }, source, userId).catch((err) =>
        deps.log.error({ err: errorText(err), approval: id }, 'slack issuance after approval failed unexpectedly'),
      );
      return;
    }
    const home = homeClick(args);
    if (home) {
      await publishHome(deps, args.client, userId, decodePages(home.pages));
      return;
    }
    try {
      const message = await decidedMessage(deps, decided, source);
      await args.respond({ replace_original: true, ...message });
    } catch (err) {
      deps.log.warn(
        { err: errorText(err), approval: id },
        'slack approval message could not be updated (the decision stands)',
      );
    }
  };
}

/** The clicked channel or DM message (not an ephemeral one, not App Home), which its own handler edits. */
function clickedMessage(args: ButtonArgs): { channel: string; ts: string } | undefined {
  if (homeClick(args)) return undefined;
  const { body } = args;
  const container = body.container as { channel_id?: unknown; message_ts?: unknown; is_ephemeral?: unknown };
  const channel =
    body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : undefined);
  const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
  return channel && ts && container['is_ephemeral'] !== true ? { channel, ts } : undefined;
}

/**
 * Where the clicked message is edited: chat.update for a channel message (no limit on how often, beyond
 * rate limits), the response_url for an ephemeral one (`/acme approvals`), which Slack takes about 5 times.
 */
function clickedMessageEditor(args: ButtonArgs): { send: (m: BotMessage) => Promise<unknown>; maxSends?: number } {
  const { body, client } = args;
  if (homeClick(args)) {
    // Nothing to edit on the Home tab: progress goes to one DM message, posted once and then edited.
    let posted: { channel: string; ts: string } | null = null;
    return {
      send: async (m) => {
        if (posted) return client.chat.update({ ...posted, ...m });
        const res = await client.chat.postMessage({ channel: body.user.id, ...m });
        if (typeof res.channel === 'string' && typeof res.ts === 'string')
          posted = { channel: res.channel, ts: res.ts };
        return res;
      },
    };
  }
  const container = body.container as { channel_id?: unknown; message_ts?: unknown; is_ephemeral?: unknown };
  const channel =
    body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : undefined);
  const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
  if (channel && ts && container['is_ephemeral'] !== true)
    return { send: (m) => client.chat.update({ channel, ts, ...m }) };
  return { send: (m) => args.respond({ replace_original: true, ...m }), maxSends: 4 };
}

/** An approved issuance: issue it now, showing progress and then the serial and expiry (or why not) in the clicked message. */
async function issueInBackground(
  args: ButtonArgs,
  deps: ApprovalDeps,
  { decided, issue }: { decided: ApprovalView; issue: NonNullable<Approved['issue']> },
  source: ApprovalSource,
  userId: string,
): Promise<void> {
  const render = async (issuance: IssuanceStatus): Promise<BotMessage> =>
    source === 'list'
      ? pendingApprovalsMessage(await deps.services.approvals.list('pending'), { decided, issuance })
      : approvalMessage(decided, { issuance });
  const editor = clickedMessageEditor(args);
  const updates = progressUpdates(editor.send, deps.log, {
    minMs: 1_500,
    ...(editor.maxSends ? { maxSends: editor.maxSends } : {}),
  });
  updates.progress(await render({ phase: 'working', line: 'starting' }));
  let final: IssuanceStatus;
  try {
    const cert = await issue((line) => {
      // Rendering the list reads the core; progress of a list-sourced approval shows only the start and the end.
      if (source === 'message') updates.progress(approvalMessage(decided, { issuance: { phase: 'working', line } }));
    });
    final =
      cert.state === 'issued'
        ? { phase: 'issued', serial: cert.serial, notAfter: cert.notAfter }
        : { phase: 'stopped', state: cert.state, detail: cert.problem?.detail ?? null };
    deps.log.info({ certificate: cert.name, state: cert.state, approval: decided.id }, 'slack-approved issuance ran');
  } catch (err) {
    const message = replyError(err, deps.log, { what: 'slack-approved issuance', fields: { approval: decided.id } });
    final = { phase: 'failed', message };
  }
  await updates.final(await withDeployButton(deps, await render(final), final, decided.certificateName));
  await syncApprovalCopies(deps, args.client, decided, { clicked: clickedMessage(args), issuance: final });
  const home = homeClick(args);
  if (home) await publishHome(deps, args.client, userId, decodePages(home.pages));
}

/** An issued certificate that is bound gets *Deploy* under its issuance message (admins; re-checked on click). */
async function withDeployButton(
  deps: ApprovalDeps,
  message: BotMessage,
  status: IssuanceStatus,
  certificate: string,
): Promise<BotMessage> {
  if (status.phase !== 'issued') return message;
  try {
    const bound = (await deps.services.bindings.list({ certificate })).length;
    return bound > 0 ? { ...message, blocks: [...message.blocks, deployActions(certificate, bound)] } : message;
  } catch (err) {
    deps.log.warn({ err: errorText(err), certificate }, 'bindings not read for the Deploy button');
    return message;
  }
}

/** Deny: ack, re-check the clicker, then open the reason modal; the submission decides. */
export function denyCallback(deps: ApprovalDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body, action, client } = args;
    await ack();
    const clicked = await admitClick(args, deps, 'denial');
    if (!clicked) return;
    const { id } = clicked;
    const container = body.container as { channel_id?: unknown; message_ts?: unknown; is_ephemeral?: unknown };
    const channel =
      body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : undefined);
    const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
    const ephemeral = container['is_ephemeral'] === true;
    const metadata = encodeDenyMetadata({
      id,
      source: sourceOfBlockId(action.block_id),
      ...(channel ? { channel } : {}),
      ...(ts ? { ts } : {}),
      // chat.update cannot edit an ephemeral message; only its response_url can.
      ...(ephemeral && body.response_url ? { responseUrl: body.response_url } : {}),
      ...(homeClick(args) ? { homePages: homeClick(args)?.pages ?? '' } : {}),
    });
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: modal(
          DENY_VIEW,
          'Deny approval',
          [
            section(
              'A denied renewal or deploy is asked again in 24 hours; a denied certificate request fails. The reason is recorded in the audit log.',
            ),
            input(REASON_BLOCK, 'Reason', {
              type: 'plain_text_input',
              action_id: REASON_ACTION,
              multiline: true,
              max_length: 500,
            }),
          ],
          { submit: 'Deny', metadata },
        ),
      });
    } catch (err) {
      deps.log.warn({ err: errorText(err), approval: id }, 'slack deny modal could not be opened');
      await tell(args, deps, 'The denial form could not be opened; try again.');
    }
  };
}
