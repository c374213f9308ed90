import { randomBytes } from 'node:crypto';
import type { LeaseRepository } from '../ports/store.ts';
import type { Logger } from '../ports/logger.ts';

export interface LeaseOptions {
  holder: string;
  /** Claim length; a dead holder's claim frees itself this long after its last renewal. */
  ttlMs: number;
}

/**
 * Runs `fn` only if this holder can claim `key`, renewing the claim every quarter of its length while `fn`
 * runs and releasing it after. Returns `{ ran: false }` when another holder has it. `fn` must re-check that
 * its work is still due: the claim says nobody else is doing it now, not that it still needs doing.
 */
export async function withLease<T>(
  leases: LeaseRepository,
  key: string,
  opts: LeaseOptions,
  log: Logger,
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  // Each claim is its own holder, so two runs inside one process (the scheduler and a forwarded
  // `jobs run`) exclude each other exactly as two replicas do.
  const holder = `${opts.holder}/${randomBytes(6).toString('base64url')}`;
  if (!(await leases.tryAcquire(key, holder, opts.ttlMs))) return { ran: false };
  const heartbeat = setInterval(
    () => {
      leases.renew(key, holder, opts.ttlMs).then(
        (held) => {
          if (!held) log.warn({ key, holder }, 'lost a lease while working; another worker may take over');
        },
        (err: unknown) => log.warn({ key, err: (err as Error).message }, 'could not renew a lease'),
      );
    },
    Math.max(10, Math.floor(opts.ttlMs / 4)),
  );
  heartbeat.unref?.();
  try {
    return { ran: true, value: await fn() };
  } finally {
    clearInterval(heartbeat);
    await leases.release(key, holder).catch(() => undefined);
  }
}
