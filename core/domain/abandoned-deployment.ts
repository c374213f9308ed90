import type { Deployment, DeployStep } from './deployment.ts';

/** The lease a deploy of one certificate to one device holds while it runs (decision 0010). */
export function deployTargetLeaseKey(certificateId: string, deviceId: string): string {
  return `deploy:${certificateId}:${deviceId}`;
}

/** What the device may hold when a deploy stopped after starting `step`, for a person deciding what to do. */
const WHERE_IT_STOPPED: Record<DeployStep, string> = {
  connect: 'nothing was written to the device',
  inspect: 'nothing was written to the device',
  upload: 'the profiles were not switched; uploaded files may remain until the next deploy',
  key_install: 'the profiles were not switched; objects it installed remain until the next deploy removes them',
  cert_install: 'the profiles were not switched; objects it installed remain until the next deploy removes them',
  switch:
    'it stopped during the profile switch: the profiles serve either what they served before or the new certificate (one transaction, never a mix)',
  verify: 'the profiles had been switched to the new certificate, not yet verified or saved',
  save: 'the profiles serve the new certificate (verified), the configuration may not be saved',
  cleanup: 'the profiles serve the new certificate (verified, saved); old objects may remain',
  sync: 'the member written to serves the new certificate (verified, saved); its device group may not be in sync',
  peer_verify:
    'the member written to serves the new certificate; the group was synced or waited on, peers not all checked',
  handshake: 'the profiles serve the new certificate (verified, saved); what clients see was not yet checked',
  done: 'it had finished on the device, but its result was never recorded',
};

/**
 * A deployment left `running` by a process that stopped (killed, crashed, lost its host) must not read as
 * running forever. The caller proves the owner gone by holding the deploy's target lease: a running owner
 * holds it, and a dead one stops renewing it. Then every record still `running` for that certificate and
 * device is settled as `failed`, saying where it stopped and who found it. Null: nothing to settle.
 */
export function abandonedDeployment(
  record: Deployment,
  found: { now: Date; supersededBy: string | null },
): Pick<Deployment, 'result' | 'outcome' | 'error' | 'finishedAt'> | null {
  if (record.result !== 'running') return null;
  const by = found.supersededBy ? `superseded by ${found.supersededBy}` : 'found by the cleanup job';
  return {
    result: 'failed',
    outcome: `${WHERE_IT_STOPPED[record.step]}; the next deploy reads the device and finishes the job`,
    error: { code: 'deploy_failed', message: `the process running this deploy stopped at step ${record.step}; ${by}` },
    finishedAt: found.now,
  };
}
