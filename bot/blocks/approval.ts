import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import { describeKeySpec, isKeySpec } from '../../core/domain/key-spec.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e, header, MAX_BLOCKS, section } from './message.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * The approval message: what is asked (kind, certificate and the server-side summary, field by named
 * field) and Approve / Deny buttons whose `value` is only the approval id. The listeners reload the
 * approval from the core on every click, so nothing here is trusted on the way back.
 */
export const APPROVE_ACTION = 'approval_approve';
export const DENY_ACTION = 'approval_deny';
/** The deny modal's callback id and its reason input. */
export const DENY_VIEW = 'approval_deny_reason';
export const REASON_BLOCK = 'approval_reason';
export const REASON_ACTION = 'reason';

/** Where an approval's buttons sit: its own message (`approval:<id>`) or a row of `/acme approvals` (`approval_list:<id>`). */
export type ApprovalSource = 'message' | 'list';
const BLOCK_PREFIX: Record<ApprovalSource, string> = { message: 'approval:', list: 'approval_list:' };

export function approvalBlockId(source: ApprovalSource, id: string): string {
  return `${BLOCK_PREFIX[source]}${id}`;
}

/** The source a clicked button's `block_id` names; anything else counts as a message of its own. */
export function sourceOfBlockId(blockId: string | undefined): ApprovalSource {
  return blockId?.startsWith(BLOCK_PREFIX.list) ? 'list' : 'message';
}

const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');
const MAX_FIELD = 300;

/** A Slack user for `slack:U…` actors, the escaped actor otherwise (`scheduler`, `cli:…`). */
export function actorMention(actor: string | null): string {
  if (!actor) return 'someone';
  const m = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  return m ? `<@${m[1]}>` : e(actor);
}

const strings = (v: unknown): string[] | null =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
const scalar = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : (strings(v)?.length ?? null);

/** The summary's known fields, each read by name and typed; unknown keys and odd shapes are left out. */
function summaryFields(summary: Record<string, unknown>): string[] {
  const fields: string[] = [];
  const names = strings(summary['names']);
  if (names && names.length > 0) fields.push(`*Names:*\n${clip(names.map(e).join(', '), MAX_FIELD)}`);
  const serial = scalar(summary['serial']);
  if (serial) fields.push(`*Serial:*\n\`${clip(e(serial), 100)}\``);
  const notAfter = scalar(summary['notAfter']);
  if (notAfter) fields.push(`*Expires:*\n${clip(e(notAfter), 40)}`);
  const profile = scalar(summary['profile']);
  if (profile) fields.push(`*CA profile:*\n\`${clip(e(profile), 100)}\``);
  // Issuance requests: where the objects go and which key is generated.
  const partition = scalar(summary['partition']);
  if (partition) fields.push(`*Partition:*\n\`${clip(e(partition), 100)}\``);
  // A request made where it serves (`/acme cert new`): the approver sees where approving deploys it.
  const serveOn = scalar(summary['serveOn']);
  if (serveOn)
    fields.push(
      `*${summary['deployOnIssue'] === true ? 'Approving deploys to' : 'Will serve on'}:*\n\`${clip(e(serveOn), 150)}\``,
    );
  const objectName = scalar(summary['objectName']);
  if (objectName) fields.push(`*BIG-IP object:*\n\`${clip(e(objectName), 150)}\``);
  const keySpec = summary['keySpec'];
  if (isKeySpec(keySpec)) fields.push(`*Key:*\n${describeKeySpec(keySpec)}`);
  // Revocations: why, and whether a replacement is deployed first.
  const reason = scalar(summary['reason']);
  if (reason) fields.push(`*Revocation reason:*\n${clip(e(reason), 60)}`);
  if (typeof summary['reissue'] === 'boolean')
    fields.push(`*Replacement first:*\n${summary['reissue'] ? 'yes: ordered and deployed before revoking' : 'no'}`);
  const devices = count(summary['devices']);
  if (devices !== null) fields.push(`*Devices:*\n${devices}`);
  const profiles = strings(summary['profiles']);
  if (profiles) {
    fields.push(
      `*BIG-IP profiles:* ${profiles.length}${profiles.length > 0 ? `\n${clip(profiles.map((p) => `\`${e(p)}\``).join(', '), MAX_FIELD)}` : ''}`,
    );
  }
  return fields;
}

function headline(a: ApprovalView): string {
  return `*${e(a.kind)}* of *${e(a.certificateName)}*  requested by ${actorMention(a.requestedBy)} at ${when(a.requestedAt)}`;
}

/**
 * How the issuance an approval started is going, shown under the decided approval: working (the latest
 * progress line), issued, stopped short of issued (e.g. waiting for challenge content), or failed.
 */
export type IssuanceStatus =
  | { phase: 'working'; line: string }
  | { phase: 'issued'; serial: string | null; notAfter: Date | null }
  | { phase: 'stopped'; state: string; detail: string | null }
  | { phase: 'failed'; message: string };

export function issuanceStatusLine(s: IssuanceStatus, certificateName: string): string {
  const name = e(certificateName);
  switch (s.phase) {
    case 'working':
      return `:hourglass_flowing_sand: Issuing *${name}* … ${e(clip(s.line, 300))}`;
    case 'issued':
      return `:white_check_mark: Issued *${name}*: serial \`${e(clip(s.serial ?? '-', 100))}\`, expires ${when(s.notAfter)}`;
    case 'stopped':
      return `:warning: *${name}* is ${e(s.state)}, not issued yet${s.detail ? `: ${e(clip(s.detail, 300))}` : ''}. Continue with ${slackCommand(['cert', 'resume', name])}`;
    case 'failed':
      return `:x: Issuing *${name}* failed: ${e(clip(s.message, 300))}`;
  }
}

function issuanceBlock(a: ApprovalView, s: IssuanceStatus): types.KnownBlock {
  return context(issuanceStatusLine(s, a.certificateName));
}

/** "Approved by <@U…> at …" / "Denied by … at …: reason"; null while pending. */
export function decisionLine(a: ApprovalView): string | null {
  if (a.state === 'pending') return null;
  if (a.state === 'denied')
    return `:x: Denied by ${actorMention(a.decidedBy)} at ${when(a.decidedAt)}${a.reason ? `: ${e(a.reason)}` : ''}`;
  return `:white_check_mark: Approved by ${actorMention(a.decidedBy)} at ${when(a.decidedAt)}${a.state === 'used' ? ' (carried out)' : ''}`;
}

/** One approval's blocks: headline with summary fields, then buttons (pending) or who decided (decided). */
export function approvalBlocks(a: ApprovalView, source: ApprovalSource = 'message'): types.KnownBlock[] {
  const fields = summaryFields(a.summary).slice(0, 10);
  // Block ids are unique within a message: the summary gets a suffix, the buttons the plain id.
  const main: types.SectionBlock = {
    ...section(headline(a)),
    block_id: clip(`${approvalBlockId(source, a.id)}:summary`, 255),
  };
  if (fields.length > 0) main.fields = fields.map((text) => ({ type: 'mrkdwn', text: slackText(text) }));
  const decided = decisionLine(a);
  if (decided !== null) return [main, context(decided)];
  const actions: types.ActionsBlock = {
    type: 'actions',
    block_id: clip(approvalBlockId(source, a.id), 255),
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: a.id,
      },
      {
        type: 'button',
        action_id: DENY_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Deny…' },
        value: a.id,
      },
    ],
  };
  return [main, actions];
}

function plainText(a: ApprovalView): string {
  const decided =
    a.state === 'pending'
      ? 'needs a decision'
      : a.state === 'denied'
        ? `denied by ${a.decidedBy ?? '?'}`
        : `approved by ${a.decidedBy ?? '?'}`;
  return clip(e(`Approval: ${a.kind} of ${a.certificateName} ${decided}`), 300);
}

/** A message of its own for one approval (pending: with buttons; decided: without), and how its issuance goes. */
export function approvalMessage(
  a: ApprovalView,
  opts: { source?: ApprovalSource; issuance?: IssuanceStatus } = {},
): BotMessage {
  const title = a.state === 'pending' ? 'Approval needed' : 'Approval decided';
  const blocks = [header(title), ...approvalBlocks(a, opts.source ?? 'message')];
  if (opts.issuance) blocks.push(issuanceBlock(a, opts.issuance));
  return { text: withIssuance(plainText(a), a, opts.issuance), blocks };
}

function withIssuance(text: string, a: ApprovalView, s: IssuanceStatus | undefined): string {
  return s ? clip(`${text}. ${issuanceStatusLine(s, a.certificateName)}`, 600) : text;
}

/**
 * `/acme approvals`: every pending approval with its buttons, within Slack's 50 blocks. `decided` (the
 * approval just decided from this list) is shown on top, without buttons.
 */
export function pendingApprovalsMessage(
  rows: ApprovalView[],
  opts: { decided?: ApprovalView; issuance?: IssuanceStatus } = {},
): BotMessage {
  const blocks: types.KnownBlock[] = [header('Pending approvals')];
  if (opts.decided) blocks.push(...approvalBlocks(opts.decided, 'list'));
  if (opts.decided && opts.issuance) blocks.push(issuanceBlock(opts.decided, opts.issuance));
  const pending = rows.filter((a) => a.state === 'pending' && a.id !== opts.decided?.id);
  if (pending.length === 0) {
    blocks.push(section('Nothing is waiting for a decision.'));
    return { text: 'Pending approvals: Nothing is waiting for a decision.', blocks };
  }
  // Each row takes 2 blocks; when they do not all fit, one block is kept for the "… and N more" line.
  const room = MAX_BLOCKS - blocks.length;
  const shown = pending.length * 2 <= room ? pending.length : Math.floor((room - 1) / 2);
  for (const a of pending.slice(0, shown)) blocks.push(...approvalBlocks(a, 'list'));
  if (shown < pending.length)
    blocks.push(context(`… and ${pending.length - shown} more (see ${slackCommand(['approval', 'list'])})`));
  return { text: `Pending approvals: ${pending.length}`, blocks };
}
