import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { ApprovalView } from '../../../core/approvals/approval-service.ts';
import { REASON_ACTION, REASON_BLOCK } from '../../blocks/approval.ts';
import { decodePages } from '../../blocks/home.ts';
import { syncApprovalCopies } from '../approval-copies.ts';
import { publishHome } from '../events/app-home.ts';
import { replyError } from '../../reply-error.ts';
import {
  type ApprovalDeps,
  decidedMessage,
  decodeDenyMetadata,
  errorText,
  mayDecide,
  slackActor,
} from '../approvers.ts';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

/**
 * The deny modal's submission. Everything is checked again here (a submission is its own signed request):
 * the approver, the reason, and the core's own checks. A refusal stays in the modal as a field error; on
 * success the modal closes and the original message shows who denied, when and why.
 */
export function denyReasonCallback(deps: ApprovalDeps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const refuse = (message: string) => ack({ response_action: 'errors', errors: { [REASON_BLOCK]: message } });
    const userId = body.user.id;
    const meta = decodeDenyMetadata(view.private_metadata);
    if (!meta) {
      deps.log.warn({ user: userId }, 'slack deny submission without a readable approval id; refused');
      await refuse('This form does not name an approval; close it and click Deny again.');
      return;
    }
    const may = await mayDecide(deps, userId, 'plain');
    if (!may.ok) {
      deps.log.warn({ user: userId, approval: meta.id }, 'slack denial from a user who may not decide; refused');
      await refuse(may.message);
      return;
    }
    const reason = (view.state.values[REASON_BLOCK]?.[REASON_ACTION]?.value ?? '').trim();
    if (!reason) {
      await refuse('Give a reason for the denial.');
      return;
    }
    let decided: ApprovalView;
    try {
      decided = await deps.services.approvals.deny(meta.id, slackActor(userId), reason);
    } catch (err) {
      await refuse(
        replyError(err, deps.log, {
          what: 'slack denial',
          outcome: 'Nothing was decided.',
          style: 'plain',
          fields: { user: userId, approval: meta.id },
        }),
      );
      return;
    }
    await ack();
    // Every other copy (the channel's, each approver's DM) shows the denial at once.
    const clicked = !meta.responseUrl && meta.channel && meta.ts ? { channel: meta.channel, ts: meta.ts } : undefined;
    await syncApprovalCopies(deps, client, decided, { clicked });
    if (meta.homePages !== undefined) {
      await publishHome(deps, client, userId, decodePages(meta.homePages));
      return;
    }
    try {
      const message = await decidedMessage(deps, decided, meta.source);
      if (meta.responseUrl) {
        const res = await fetch(meta.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ replace_original: true, ...message }),
        });
        if (!res.ok) throw new Error(`response_url answered ${res.status}`);
      } else if (meta.channel && meta.ts) {
        await client.chat.update({ channel: meta.channel, ts: meta.ts, ...message });
      }
    } catch (err) {
      deps.log.warn(
        { err: errorText(err), approval: meta.id },
        'slack approval message could not be updated (the denial stands)',
      );
    }
  };
}
