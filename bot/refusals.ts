/**
 * The one renderer of the bot's refusals (issue 15): a refusal names WHO may do it, and a second decision
 * says who decided and when, in Slack's own mentions and dates. Pure; no Slack calls.
 */

/**
 * `mrkdwn` for messages (mentions and dates Slack renders for each reader); `plain` for a modal's field
 * errors, which Slack shows as plain text (`@U…`, UTC).
 */
export type Style = 'mrkdwn' | 'plain';

/** A Slack user (`U…`/`W…`) or user group (`S…`) id as a mention; anything else as it is, escaped. */
export function mention(id: string, style: Style = 'mrkdwn'): string {
  if (/^[UWS][A-Z0-9]+$/.test(id) && style === 'plain') return `@${id}`;
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  if (/^S[A-Z0-9]+$/.test(id)) return `<!subteam^${id}>`;
  return style === 'plain' ? id : id.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A recorded actor (`slack:U…`, `cli:alice`, `scheduler`) as Slack shows it. */
export function actorText(actor: string | null | undefined, style: Style = 'mrkdwn'): string {
  if (!actor) return 'someone';
  const slack = /^slack:([UWS][A-Z0-9]+)$/.exec(actor);
  if (slack) return mention(slack[1]!, style);
  const cli = /^cli:(.+)$/.exec(actor);
  return cli ? `${mention(cli[1]!, style)} (on the server)` : mention(actor, style);
}

/** A time in each reader's own time zone (`<!date^…>`), with UTC as the fallback text. */
export function slackDate(at: Date, style: Style = 'mrkdwn'): string {
  const fallback = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return style === 'plain'
    ? fallback
    : `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** "<@U1>, <@U2> or <@U3>". */
function orList(ids: readonly string[], style: Style): string {
  const shown = ids.slice(0, 10).map((id) => mention(id, style));
  const more = ids.length > shown.length ? [`${ids.length - shown.length} more`] : [];
  const all = [...shown, ...more];
  return all.length <= 1 ? (all[0] ?? '') : `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}

export type Role = 'admin' | 'approver';

const SETTING: Record<Role, string> = { admin: 'SLACK_ADMINS', approver: 'SLACK_APPROVERS' };

/** Who holds a role, for a person who lacks it: their mentions, or that nobody does yet and where that is set. */
export function whoMay(role: Role, ids: readonly string[], style: Style = 'mrkdwn'): string {
  if (ids.length === 0)
    return `nobody is an ${role} yet (${SETTING[role]} is empty; an operator sets it in the service's settings)`;
  return `ask an ${role}: ${orList(ids, style)}`;
}

/** An admin-only subcommand or form, refused. */
export function notAnAdmin(admins: readonly string[], style: Style = 'mrkdwn'): string {
  return `Only admins may do this (${SETTING.admin}); ${whoMay('admin', admins, style)}. Nothing changed.`;
}

/** A decision by someone who is not an approver, refused. */
export function notAnApprover(approvers: readonly string[], style: Style = 'mrkdwn'): string {
  return `You are not allowed to decide approvals: only approvers may (${SETTING.approver}); ${whoMay('approver', approvers, style)}. Nothing changed.`;
}

/** What the core says about an approval decided before (CoreError `conflict`, its `detail`). */
export interface DecidedBefore {
  state: string;
  decidedBy: string | null;
  decidedAt: Date | null;
}

/** Reads `DecidedBefore` from a CoreError's detail (the core writes `decidedAt` as an ISO string). */
export function decidedBefore(detail: Record<string, unknown> | undefined): DecidedBefore | null {
  const state = detail?.['reason'] === 'already_decided' ? detail['state'] : undefined;
  if (!detail || typeof state !== 'string') return null;
  const at = typeof detail['decidedAt'] === 'string' ? new Date(detail['decidedAt']) : null;
  return {
    state,
    decidedBy: typeof detail['decidedBy'] === 'string' ? detail['decidedBy'] : null,
    decidedAt: at && !Number.isNaN(at.getTime()) ? at : null,
  };
}

/** "Already approved by <@U…> at <date>; nothing changed." (`used` is an approval the service then acted on.) */
export function alreadyDecidedText(d: DecidedBefore, style: Style = 'mrkdwn'): string {
  const verb =
    d.state === 'denied'
      ? 'denied'
      : d.state === 'used'
        ? 'approved (and acted on)'
        : d.state === 'approved'
          ? 'approved'
          : d.state;
  const at = d.decidedAt ? ` at ${slackDate(d.decidedAt, style)}` : '';
  return `Already ${verb} by ${actorText(d.decidedBy, style)}${at}; nothing changed.`;
}
