import type { AddressInfo } from 'node:net';
import { App, type AppOptions, webApi } from '@slack/bolt';
import { builtinResponderUrl, type Config } from '../core/config.ts';
import { CoreError } from '../core/errors.ts';
import type { Logger } from '../core/ports/logger.ts';
import type { CoreServices } from '../core/services/index.ts';
import { approverGroupsOf } from './slack-user-groups.ts';
import type { ApproverGroups } from '../core/ports/approver-groups.ts';
import { registerListeners } from './listeners/index.ts';
import { boltLogger } from './slack-logger.ts';
import { teamGuard } from './team-guard.ts';

export interface BotDeps {
  services: CoreServices;
  config: Config;
  log: Logger;
  /**
   * Workspaces whose requests are served. Unset: the bot token's own workspace, as auth.test reports it at
   * start, so a request signed with our secret but sent for another workspace changes nothing.
   */
  allowedTeamIds?: readonly string[];
  /** The user groups among SLACK_APPROVERS, resolved and cached (runtime.ts shares the core's); default: its own over the bot token. */
  approverGroups?: ApproverGroups | undefined;
  /** Where the HTTP receiver listens; default all interfaces on SLACK_PORT (tests pass port 0). */
  listen?: { host?: string; port?: number };
}

export interface BotApp {
  app: App;
  /** HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set. Checks the bot token with auth.test first. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `socket` or where the HTTP receiver listens (after start). */
  where(): { mode: 'socket' } | { mode: 'http'; host: string; port: number; path: string } | null;
}

export const EVENTS_PATH = '/slack/events';

/** Builds the Bolt app over the core services. Nothing listens until `start()`. */
export function createBotApp(deps: BotDeps): BotApp {
  const { config, log } = deps;
  if (!config.SLACK_BOT_TOKEN) throw new CoreError('config_invalid', 'SLACK_BOT_TOKEN is required for the Slack bot');
  const socketMode = Boolean(config.SLACK_APP_TOKEN);
  if (!socketMode && !config.SLACK_SIGNING_SECRET) {
    throw new CoreError(
      'config_invalid',
      'SLACK_SIGNING_SECRET is required for the Slack bot in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const common: AppOptions = {
    token: config.SLACK_BOT_TOKEN,
    logger: boltLogger(log),
    // auth.test runs in start() (init), where a refused token is one clear error instead of a stray rejection.
    deferInitialization: true,
    clientOptions: {
      ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
      retryConfig: webApi.retryPolicies.fiveRetriesInFiveMinutes,
    },
  };
  const app = socketMode
    ? new App({ ...common, socketMode: true, appToken: config.SLACK_APP_TOKEN! })
    : new App({ ...common, signingSecret: config.SLACK_SIGNING_SECRET!, endpoints: EVENTS_PATH });

  let allowedTeams = new Set<string>(deps.allowedTeamIds ?? []);
  app.use(teamGuard(() => allowedTeams, log));
  registerListeners(app, {
    services: deps.services,
    log,
    approvers: config.SLACK_APPROVERS,
    approverGroups: deps.approverGroups ?? approverGroupsOf(config, log),
    approverDm: config.SLACK_APPROVER_DM,
    admins: config.SLACK_ADMINS,
    responderUrl: builtinResponderUrl(config),
  });
  app.error(async (error) => {
    log.error({ code: error.code ?? null, err: error.message }, 'slack listener error');
  });

  let where: ReturnType<BotApp['where']> = null;
  return {
    app,
    async start() {
      try {
        await app.init();
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new CoreError(
          'config_invalid',
          `SLACK_BOT_TOKEN could not be checked with Slack (auth.test): ${reason}`,
          { cause: err },
        );
      }
      if (!deps.allowedTeamIds?.length) {
        const auth = await app.client.auth.test();
        if (typeof auth.team_id !== 'string' || auth.team_id === '')
          throw new CoreError('config_invalid', "auth.test did not name the bot token's workspace");
        allowedTeams = new Set([auth.team_id]);
        log.info({ team: auth.team_id }, "slack bot serves one workspace: the bot token's");
      }
      if (socketMode) {
        await app.start();
        where = { mode: 'socket' };
        return;
      }
      const listen = { host: deps.listen?.host ?? '0.0.0.0', port: deps.listen?.port ?? config.SLACK_PORT };
      const server = await app.start(listen);
      const address = server.address() as AddressInfo;
      where = { mode: 'http', host: listen.host, port: address.port, path: EVENTS_PATH };
    },
    async stop() {
      if (where === null) return;
      where = null;
      await app.stop();
    },
    where: () => where,
  };
}
