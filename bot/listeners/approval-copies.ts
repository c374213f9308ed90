import type { webApi } from '@slack/bolt';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import { approvalMessage, type IssuanceStatus } from '../blocks/approval.ts';
import { type ApprovalDeps, errorText } from './approvers.ts';

/**
 * Once an approval is decided (wherever it was clicked: the channel, a DM, App Home, `/acme approvals`),
 * every recorded copy of its message (the notify channel's, each approver's DM) is updated to show the
 * decision, so nobody clicks a stale button. The copy that was clicked is skipped: its own handler edits it.
 * Best effort: a copy Slack refuses to update is logged (its buttons still lead to "already decided").
 */
export async function syncApprovalCopies(
  deps: ApprovalDeps,
  client: webApi.WebClient,
  decided: ApprovalView,
  opts: { clicked?: { channel: string; ts: string } | undefined; issuance?: IssuanceStatus } = {},
): Promise<number> {
  let copies: Awaited<ReturnType<ApprovalDeps['services']['approvals']['messages']>>;
  try {
    copies = await deps.services.approvals.messages(decided.id);
  } catch (err) {
    deps.log.warn({ err: errorText(err), approval: decided.id }, 'approval copies could not be read');
    return 0;
  }
  const message = approvalMessage(decided, opts.issuance ? { issuance: opts.issuance } : {});
  let updated = 0;
  for (const copy of copies) {
    if (opts.clicked && copy.channel === opts.clicked.channel && copy.ts === opts.clicked.ts) continue;
    try {
      await client.chat.update({ channel: copy.channel, ts: copy.ts, text: message.text, blocks: message.blocks });
      updated++;
    } catch (err) {
      deps.log.warn({ err: errorText(err), approval: decided.id }, 'an approval copy could not be updated');
    }
  }
  return updated;
}
