import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../core/ports/logger.ts';

/** The workspace a request comes from: commands and events carry `team_id`, interactions `team.id`. */
export function requestTeamId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { team_id?: unknown; team?: { id?: unknown } | null; user?: { team_id?: unknown } | null };
  if (typeof b.team_id === 'string') return b.team_id;
  if (b.team && typeof b.team.id === 'string') return b.team.id;
  if (b.user && typeof b.user.team_id === 'string') return b.user.team_id;
  return undefined;
}

/**
 * Global middleware: requests from any workspace but the allowed ones are acknowledged (so Slack does not
 * retry) and dropped before any listener runs.
 */
export function teamGuard(allowed: readonly string[], log: Logger): Middleware<AnyMiddlewareArgs> {
  const set = new Set(allowed);
  return async (args) => {
    const team = requestTeamId(args.body);
    if (team !== undefined && set.has(team)) {
      await args.next();
      return;
    }
    log.warn({ team: team ?? null }, 'slack request from a workspace that is not allowed; dropped');
    const ack = (args as { ack?: (response?: string) => Promise<void> }).ack;
    if (ack) await ack('bigip-acme is not enabled for this workspace.');
  };
}
