import type { Config } from '../core/config.ts';
import { CoreError } from '../core/errors.ts';
import type { ApproverGroups } from '../core/ports/approver-groups.ts';
import type { Logger } from '../core/ports/logger.ts';

/**
 * Approver groups over Slack's `usergroups.users.list` (scope `usergroups:read`; Slack user groups need a
 * paid plan, else `plan_upgrade_required`). Members are cached per group and fetched again when the
 * entry is older than `refreshMs` (default 5 min), and on a miss (a user not in the cached list) once the
 * entry is older than `missRefreshMs` (default 5 s), so someone just added is let in without a hammer of
 * calls for a stranger's clicks. A failed fetch refuses (fail closed): a stale list is never used to admit.
 * Plain `fetch`, no Slack SDK, so the composition root can build it without loading Slack.
 */

/** One Slack Web API call: the method's JSON answer when `ok`, else throws with Slack's error string. */
export type SlackApiCall = (method: string, args: Record<string, string>) => Promise<Record<string, unknown>>;

export const DEFAULT_GROUP_REFRESH_MS = 5 * 60_000;
export const DEFAULT_MISS_REFRESH_MS = 5_000;

/** `fetch` against the Web API with the bot token (form-encoded, as the SDK sends it). */
export function slackFetchCall(token: string, apiUrl = 'https://slack.com/api/', timeoutMs = 10_000): SlackApiCall {
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
  return async (method, args) => {
    const res = await fetch(`${base}${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(args).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 429) throw new Error('ratelimited');
    const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (!json) throw new Error(`HTTP ${res.status}`);
    if (json['ok'] !== true) throw new Error(typeof json['error'] === 'string' ? json['error'] : 'not_ok');
    return json;
  };
}

export function createSlackUserGroups(opts: {
  call: SlackApiCall;
  log: Logger;
  refreshMs?: number;
  missRefreshMs?: number;
  now?: () => number;
}): ApproverGroups {
  const refreshMs = opts.refreshMs ?? DEFAULT_GROUP_REFRESH_MS;
  const missRefreshMs = opts.missRefreshMs ?? DEFAULT_MISS_REFRESH_MS;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { members: ReadonlySet<string>; at: number }>();
  /** One fetch per group at a time: concurrent clicks wait for the same answer. */
  const inFlight = new Map<string, Promise<ReadonlySet<string>>>();

  function fetchMembers(groupId: string): Promise<ReadonlySet<string>> {
    const running = inFlight.get(groupId);
    if (running) return running;
    const p = (async () => {
      try {
        const answer = await opts.call('usergroups.users.list', { usergroup: groupId });
        const users = Array.isArray(answer['users']) ? answer['users'].filter((u) => typeof u === 'string') : [];
        const members = new Set(users as string[]);
        cache.set(groupId, { members, at: now() });
        return members;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        opts.log.warn({ group: groupId, error: why }, 'slack user group could not be resolved; refusing its members');
        throw new CoreError(
          'forbidden',
          `Slack user group ${groupId} (in SLACK_APPROVERS) could not be resolved (usergroups.users.list: ${why})`,
          { retryable: true },
        );
      } finally {
        inFlight.delete(groupId);
      }
    })();
    inFlight.set(groupId, p);
    return p;
  }

  return {
    async isMember(groupId, userId) {
      const entry = cache.get(groupId);
      const age = entry ? now() - entry.at : Number.POSITIVE_INFINITY;
      if (entry && age < refreshMs && entry.members.has(userId)) return true;
      if (entry && age < Math.min(missRefreshMs, refreshMs)) return false;
      return (await fetchMembers(groupId)).has(userId);
    },
    async members(groupId) {
      const entry = cache.get(groupId);
      if (entry && now() - entry.at < refreshMs) return [...entry.members];
      return [...(await fetchMembers(groupId))];
    },
  };
}

/**
 * The resolver for the user groups (S…) in SLACK_APPROVERS, over the bot token; undefined when there is
 * none, or no token (then a group admits nobody, and a member's decision is refused with the reason).
 */
export function approverGroupsOf(
  config: Pick<Config, 'SLACK_APPROVERS' | 'SLACK_BOT_TOKEN' | 'SLACK_API_URL'>,
  log: Logger,
): ApproverGroups | undefined {
  if (!config.SLACK_BOT_TOKEN || !config.SLACK_APPROVERS.some((id) => id.startsWith('S'))) return undefined;
  return createSlackUserGroups({ call: slackFetchCall(config.SLACK_BOT_TOKEN, config.SLACK_API_URL), log });
}
