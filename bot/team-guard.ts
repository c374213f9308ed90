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

/**
 * Global middleware: a request is served only when every workspace it speaks for is allowed. Others are
 * acknowledged (so Slack does not retry) and dropped before any listener runs. `allowed()` is read per
 * request because the bot token's own workspace is known only after auth.test at start.
 */
export function teamGuard(allowed: () => ReadonlySet<string>, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const teams = requestTeamIds(args.body);
    const set = allowed();
    if (teams.length > 0 && teams.every((t) => set.has(t))) {
      await args.next();
      return;
    }
    log.warn({ teams }, 'slack request from a workspace that is not allowed; dropped');
    const ack = (args as { ack?: (response?: string) => Promise<void> }).ack;
    if (ack) await ack('This certificate bot is not enabled for this workspace.');
  };
}
