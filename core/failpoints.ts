/**
 * Crash injection for recovery tests and the fault suite (`npm run chaos`): when BIGIP_ACME_FAILPOINT names a
 * point the process reaches, it kills itself with SIGKILL right there, exactly as a power cut or OOM kill
 * would, so tests can prove that every step persisted before it is resumable. Inert unless the variable is set.
 *
 * Issuance: `key_persisted` (key and CSR stored, no order yet), `order_created` (order stored),
 * `challenge_answered`, `finalize_sent`, `certificate_downloaded` (chain fetched, not yet stored).
 * Deploy, per device: `deploy_before_switch` (objects installed, profiles not switched yet) and
 * `deploy_after_switch` (transaction committed, not yet verified or saved).
 * Key rotation: `secrets_rotate_batch` (one batch of values re-sealed and committed, the rest not yet).
 */
export type FailpointName =
  | 'key_persisted'
  | 'order_created'
  | 'challenge_answered'
  | 'finalize_sent'
  | 'certificate_downloaded'
  | 'deploy_before_switch'
  | 'deploy_after_switch'
  | 'secrets_rotate_batch';

export function failpoint(name: FailpointName): void {
  if (process.env.BIGIP_ACME_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
