import { describe, expect, it } from 'vitest';
import type { DeployStep } from '../../core/domain/deployment.ts';
import { failedDeployOutcome, type LostCommit } from '../../core/domain/device-deploy-outcome.ts';

const cert = '/Common/www_20270101-abcd1234.crt';

describe('failedDeployOutcome', () => {
  it.each<{
    step: DeployStep;
    switched: boolean;
    rolledBack: boolean;
    lostCommit: LostCommit | null;
    says: string;
    undo: boolean;
  }>([
    { step: 'upload', switched: false, rolledBack: false, lostCommit: null, says: 'nothing switched', undo: true },
    { step: 'switch', switched: false, rolledBack: false, lostCommit: null, says: 'nothing switched', undo: true },
    {
      step: 'switch',
      switched: false,
      rolledBack: false,
      lostCommit: 'unreadable',
      says: 'could not be read back',
      undo: false,
    },
    {
      step: 'switch',
      switched: false,
      rolledBack: false,
      lostCommit: 'unchanged',
      says: 'still serve what they served before',
      undo: true,
    },
    { step: 'verify', switched: false, rolledBack: true, lostCommit: null, says: 'switched back', undo: true },
    { step: 'verify', switched: true, rolledBack: false, lostCommit: null, says: 'switching back failed', undo: false },
    {
      step: 'verify',
      switched: false,
      rolledBack: false,
      lostCommit: null,
      says: 'an earlier attempt switched them',
      undo: false,
    },
    { step: 'save', switched: true, rolledBack: false, lostCommit: null, says: 'not saved', undo: false },
    {
      step: 'cleanup',
      switched: true,
      rolledBack: false,
      lostCommit: null,
      says: 'removing old objects failed',
      undo: false,
    },
  ])('$step, switched $switched, rolled back $rolledBack, lost commit $lostCommit → "$says"', (c) => {
    const { outcome, undoInstall } = failedDeployOutcome({ ...c, cert });
    expect(outcome).toContain(c.says);
    expect(undoInstall).toBe(c.undo);
  });
});
