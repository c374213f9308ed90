import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../core/ports/logger.ts';

/**
 * The workspaces a request speaks for: the workspace it was sent from (commands and events carry
 * `team_id`, interactions `team.id`) and, on interactions, the clicking user's own workspace, which differs
 * for a Slack Connect guest clicking a button in a shared channel.
 */
export function requestTeamIds(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { team_id?: unknown; team?: { id?: unknown } | null; user?: { team_id?: unknown } | null };
  const teams: string[] = [];
  if (typeof b.team_id === 'string') teams.push(b.team_id);
  else if (b.team && typeof b.team.id === 'string') teams.push(b.team.id);
  if (b.user && typeof b.user.team_id === 'string') teams.push(b.user.team_id);
  return teams;
}

/** What a person in a workspace the bot does not serve reads, instead of silence. */
export const NOT_THIS_WORKSPACE = 'This certificate bot is not enabled for this workspace, so nothing was done here.';

type GuardArgs = {
  body: unknown;
  ack?: (response?: unknown) => Promise<void>;
  respond?: (message: { response_type?: 'ephemeral'; replace_original?: boolean; text: string }) => Promise<unknown>;
};

/** The kind of request, as the refusal must answer it. */
function requestKind(body: unknown): 'command' | 'view_submission' | 'block_suggestion' | 'other' {
  const b = (body ?? {}) as { command?: unknown; type?: unknown };
  if (typeof b.command === 'string') return 'command';
  if (b.type === 'view_submission') return 'view_submission';
  if (b.type === 'block_suggestion') return 'block_suggestion';
  return 'other';
}

/**
 * Global middleware: a request is served only when every workspace it speaks for is allowed. Others get
 * a visible refusal and nothing else runs: a slash command an ephemeral answer in its ack, a form a view
 * saying so in place of the form, a click an ephemeral answer through its response_url; an options
 * request no options, an event only its ack (there is nobody to answer). `allowed()` is read per request
 * because the bot token's own workspace is known only after auth.test at start. The same in HTTP and
 * Socket Mode (the ack and respond work alike in both).
 */
export function teamGuard(allowed: () => ReadonlySet<string>, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const teams = requestTeamIds(args.body);
    const set = allowed();
    if (teams.length > 0 && teams.every((t) => set.has(t))) {
      await args.next();
      return;
    }
    const kind = requestKind(args.body);
    log.warn({ teams, kind }, 'slack request from a workspace that is not allowed; refused');
    const { ack, respond } = args as unknown as GuardArgs;
    if (kind === 'command') {
      await ack?.({ response_type: 'ephemeral', text: NOT_THIS_WORKSPACE });
      return;
    }
    if (kind === 'view_submission') {
      await ack?.({
        response_action: 'update',
        view: {
          type: 'modal',
          title: { type: 'plain_text', text: 'Not available here' },
          close: { type: 'plain_text', text: 'Close' },
          blocks: [{ type: 'section', text: { type: 'plain_text', text: NOT_THIS_WORKSPACE } }],
        },
      });
      return;
    }
    if (kind === 'block_suggestion') {
      await ack?.({ options: [] });
      return;
    }
    await ack?.();
    if (respond) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_THIS_WORKSPACE }).catch(
        (err: unknown) =>
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'workspace refusal not delivered'),
      );
    }
  };
}
