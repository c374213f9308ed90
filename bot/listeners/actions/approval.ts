import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import type { ApprovalView } from '../../../core/services/approval-service.ts';
import { DENY_VIEW, REASON_ACTION, REASON_BLOCK, sourceOfBlockId } from '../../blocks/approval.ts';
import { type ApprovalDeps, decidedMessage, encodeDenyMetadata, errorText, isApprovalId, mayDecide, NOT_AN_APPROVAL, NOT_AN_APPROVER, slackActor } from '../approvers.ts';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

async function tell(args: ButtonArgs, deps: ApprovalDeps, text: string): Promise<void> {
  try {
    await args.respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (err) {
    deps.log.warn({ err: errorText(err) }, 'slack approval answer could not be delivered');
  }
}

/**
 * The checks every decision click passes before the core sees it: the clicker is an approver, and the
 * button names an approval. Answers the clicker and returns null when either fails.
 */
async function admitClick(args: ButtonArgs, deps: ApprovalDeps, what: 'approval' | 'denial'): Promise<{ userId: string; id: string } | null> {
  const userId = args.body.user.id;
  const id = args.action.value ?? '';
  if (!mayDecide(deps.approvers, userId)) {
    deps.log.warn({ user: userId, approval: id }, `slack ${what} click from a user not in SLACK_APPROVERS; refused`);
    await tell(args, deps, NOT_AN_APPROVER);
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
    let decided: ApprovalView;
    try {
      decided = await deps.services.approvals.approve(id, slackActor(userId));
    } catch (err) {
      if (isCoreError(err)) {
        deps.log.info({ code: err.code, user: userId, approval: id }, 'slack approval refused by core');
        await tell(args, deps, err.message);
      } else {
        deps.log.error({ err: errorText(err), user: userId, approval: id }, 'slack approval failed');
        await tell(args, deps, 'Something went wrong on the bigip-acme side; it is in the service log. Nothing was decided.');
      }
      return;
    }
    try {
      const message = await decidedMessage(deps, decided, sourceOfBlockId(action.block_id));
      await args.respond({ replace_original: true, ...message });
    } catch (err) {
      deps.log.warn({ err: errorText(err), approval: id }, 'slack approval message could not be updated (the decision stands)');
    }
  };
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
    const channel = body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : undefined);
    const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
    const ephemeral = container['is_ephemeral'] === true;
    const metadata = encodeDenyMetadata({
      id,
      source: sourceOfBlockId(action.block_id),
      ...(channel ? { channel } : {}),
      ...(ts ? { ts } : {}),
      // chat.update cannot edit an ephemeral message; only its response_url can.
      ...(ephemeral && body.response_url ? { responseUrl: body.response_url } : {}),
    });
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: {
          type: 'modal',
          callback_id: DENY_VIEW,
          private_metadata: metadata,
          title: { type: 'plain_text', text: 'Deny approval' },
          submit: { type: 'plain_text', text: 'Deny' },
          close: { type: 'plain_text', text: 'Cancel' },
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: 'The scheduler asks again in 24 hours. The reason is recorded in the audit log.' } },
            {
              type: 'input',
              block_id: REASON_BLOCK,
              label: { type: 'plain_text', text: 'Reason' },
              element: { type: 'plain_text_input', action_id: REASON_ACTION, multiline: true, max_length: 500 },
            },
          ],
        },
      });
    } catch (err) {
      deps.log.warn({ err: errorText(err), approval: id }, 'slack deny modal could not be opened');
      await tell(args, deps, 'The denial form could not be opened; try again.');
    }
  };
}
