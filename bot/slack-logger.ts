import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../core/ports/logger.ts';

/**
 * Bolt's logger interface over the service log. Bolt's debug output can include request bodies (a slash
 * command carries the legacy verification token), so it is dropped rather than forwarded.
 */
export function boltLogger(log: Logger): BoltLogger {
  const line = (parts: unknown[]) =>
    parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: () => {},
    info: (...parts) => log.info({ component: 'slack' }, line(parts)),
    warn: (...parts) => log.warn({ component: 'slack' }, line(parts)),
    error: (...parts) => log.error({ component: 'slack' }, line(parts)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
