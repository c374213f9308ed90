/**
 * Crash injection for recovery tests: when BIGIP_ACME_FAILPOINT names a point the process reaches, it
 * kills itself with SIGKILL right there, exactly as a power cut or OOM kill would, so tests can prove that
 * every step persisted before it is resumable. Inert unless the variable is set.
 */
export type FailpointName = 'order_created' | 'challenge_answered' | 'finalize_sent';

export function failpoint(name: FailpointName): void {
  if (process.env.BIGIP_ACME_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
