import { hostname } from 'node:os';
import { createBotApp } from '../bot/app.ts';
import type { Config } from '../core/config.ts';
import { type JobName, jobSchedules, startScheduler } from '../core/services/jobs.ts';
import { resolve } from 'node:path';
import { createLogger, openRuntime } from '../runtime.ts';
import { startChallengeListeners } from '../responder/start.ts';
import type { RunCli } from './cli-io.ts';
import { controlSocketPath, startControlSocket } from './control-socket.ts';
import type { Role } from './role.ts';
import { startSlackNotifier } from './slack-notifier.ts';

export function jobPatterns(config: Config): Record<JobName, string> {
  return jobSchedules(config);
}

/**
 * Starts the listeners of a role, logs where each one is and what is off and why, and stops on SIGTERM.
 * `runCli` runs the commands forwarded over the control socket (passed in so the service does not import
 * the command tree that starts it).
 */
export async function serve(config: Config, role: Role, runCli: RunCli): Promise<void> {
  const log = createLogger(config);
  const rt = await openRuntime(config, log, { secretsOptional: role === 'responder' });
  const where = rt.database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR} (single process)` : 'PostgreSQL';
  log.info({ role, database: rt.database.kind }, `bigip-acme ${role} starting on ${where}`);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers) await close();
    await rt.close();
  };

  // A listener that cannot start (its port taken) fails the whole process: without this, the control socket
  // and the database opened before it kept a service running that answered no challenges.
  try {
    if (rt.database.kind === 'pglite')
      closers.push(await startControlSocket(rt, controlSocketPath(resolve(config.DATA_DIR)), runCli));
    if (role === 'all' || role === 'responder') closers.push(await startChallengeListeners(rt));
    if (role === 'all' || role === 'worker') {
      const scheduler = startScheduler(rt.services.jobs, {
        patterns: jobPatterns(config),
        startDelayMaxMs: config.JOBS_START_DELAY_MAX_SECONDS * 1000,
        log,
      });
      log.info(
        { next: scheduler.nextRuns() },
        `scheduler started (renew ${config.JOBS_RENEW_CRON}, deploy ${config.JOBS_DEPLOY_CRON}, random start delay up to ${config.JOBS_START_DELAY_MAX_SECONDS} s)`,
      );
      closers.push(async () => scheduler.stop());
    }
    if (role === 'all' || role === 'bot') {
      if (config.SLACK_BOT_TOKEN && (config.SLACK_SIGNING_SECRET || config.SLACK_APP_TOKEN)) {
        const bot = createBotApp({ services: rt.services, config, log, approverGroups: rt.approverGroups });
        await bot.start();
        const at = bot.where();
        log.info(
          { slack: at },
          at?.mode === 'http'
            ? `Slack bot listening on http://${at.host}:${at.port}${at.path}`
            : 'Slack bot connected in Socket Mode',
        );
        closers.push(() => bot.stop());
        if (config.SLACK_NOTIFY_CHANNEL) {
          const notifier = await startSlackNotifier(rt, config, log, { holder: `${hostname()}:${process.pid}` });
          log.info(
            { channel: config.SLACK_NOTIFY_CHANNEL },
            'Slack notifications on: failures and approval requests as they happen, successes in an hourly digest',
          );
          closers.push(() => notifier.stop());
        } else {
          log.info({}, 'Slack notifications off (SLACK_NOTIFY_CHANNEL not set)');
        }
      } else {
        log.info(
          {},
          config.SLACK_BOT_TOKEN
            ? 'Slack bot off (SLACK_SIGNING_SECRET or SLACK_APP_TOKEN not set)'
            : 'Slack bot off (SLACK_BOT_TOKEN not set)',
        );
      }
    }
  } catch (err) {
    await closeAll().catch((closeErr: unknown) =>
      log.warn({ err: (closeErr as Error).message }, 'closing after a failed start failed'),
    );
    throw err;
  }

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info({}, 'stopping');
  await closeAll();
}
