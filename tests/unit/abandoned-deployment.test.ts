import { describe, expect, it } from 'vitest';
import { abandonedDeployment, deployTargetLeaseKey } from '../../core/domain/abandoned-deployment.ts';
import type { Deployment, DeploymentResult, DeployStep } from '../../core/domain/deployment.ts';

const now = new Date('2026-12-04T01:00:00Z');
const record = (result: DeploymentResult, step: DeployStep): Deployment => ({
  id: 'd-1',
  certificateId: 'c-1',
  deviceId: 'v-1',
  serial: '01',
  objects: { key: '/Common/k', cert: '/Common/c', chain: null },
  profiles: ['/Common/p'],
  oldFingerprints: {},
  newFingerprint: 'ab',
  result,
  step,
  error: null,
  outcome: null,
  actor: 'test',
  startedAt: new Date('2026-12-04T00:00:00Z'),
  finishedAt: null,
});

describe('abandonedDeployment', () => {
  it.each([
    [
      'killed before the switch, superseded',
      'cert_install',
      'd-2',
      /^the process running this deploy stopped at step cert_install; superseded by d-2$/,
      /^the profiles were not switched/,
    ],
    [
      'killed during the switch, superseded',
      'switch',
      'd-2',
      /stopped at step switch; superseded by d-2$/,
      /either what they served before or the new certificate/,
    ],
    [
      'killed after the switch, found by cleanup',
      'verify',
      null,
      /stopped at step verify; found by the cleanup job$/,
      /had been switched to the new certificate, not yet verified/,
    ],
    ['killed while connecting', 'connect', null, /stopped at step connect/, /^nothing was written/],
    ['killed while saving', 'save', 'd-3', /stopped at step save; superseded by d-3/, /may not be saved/],
    ['killed during cleanup', 'cleanup', null, /stopped at step cleanup/, /old objects may remain/],
  ] as const)('%s', (_what, step, supersededBy, message, outcome) => {
    const settled = abandonedDeployment(record('running', step), { now, supersededBy });
    expect(settled).toMatchObject({ result: 'failed', finishedAt: now, error: { code: 'deploy_failed' } });
    expect(settled!.error!.message).toMatch(message);
    expect(settled!.outcome).toMatch(outcome);
    expect(settled!.outcome).toMatch(/next deploy reads the device/);
  });

  it.each(['succeeded', 'unchanged', 'failed', 'rolled_back'] as const)('leaves a %s record alone', (result) => {
    expect(abandonedDeployment(record(result, 'done'), { now, supersededBy: 'd-2' })).toBeNull();
  });

  it('names one lease per certificate and device, apart from the auto-deploy lease of the certificate', () => {
    expect(deployTargetLeaseKey('c-1', 'v-1')).toBe('deploy:c-1:v-1');
    expect(deployTargetLeaseKey('c-1', 'v-1')).not.toBe(deployTargetLeaseKey('c-1', 'v-2'));
  });
});
