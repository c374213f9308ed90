/**
 * Who is in an approver group now (a Slack user group `S…` listed in SLACK_APPROVERS). Implemented over
 * Slack's `usergroups.users.list` with a cache (bot/slack-user-groups.ts).
 */
export interface ApproverGroups {
  /**
   * Whether user `userId` is a member of group `groupId` now. Throws a `CoreError` (code `forbidden`,
   * retryable) when membership cannot be told: the caller refuses, never guesses (fail closed).
   */
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** The user ids in group `groupId` now (cached like `isMember`); throws like it when it cannot be told. */
  members(groupId: string): Promise<readonly string[]>;
}
