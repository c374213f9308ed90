import { describe, expect, it } from 'vitest';
import { type ApprovalParties, type DeciderPolicy, refusalFor } from '../../core/domain/approval-deciders.ts';

const approvers = ['slack:U0BOB', 'slack:U0ALICE', 'cli:carol', 'cli:alice'];
const strict: DeciderPolicy = { approvers, allowSelf: false };
const lenient: DeciderPolicy = { approvers, allowSelf: true };
const nobody: DeciderPolicy = { approvers: [], allowSelf: true };

const renewalOfAlices: ApprovalParties = {
  kind: 'renewal',
  certificateName: 'www',
  requestedBy: 'slack:U0ALICE',
  certificateRequester: 'slack:U0ALICE',
};
const legacyRenewal: ApprovalParties = { ...renewalOfAlices, requestedBy: 'scheduler' };
const issuanceByCarol: ApprovalParties = {
  kind: 'issuance',
  certificateName: 'api',
  requestedBy: 'cli:carol',
  certificateRequester: 'cli:carol',
};
const reRequestedByBob: ApprovalParties = {
  kind: 'issuance',
  certificateName: 'api',
  requestedBy: 'slack:U0BOB',
  certificateRequester: 'cli:carol',
};

describe('refusalFor: who may decide an approval', () => {
  it.each<[string, DeciderPolicy, string, ApprovalParties, RegExp | null]>([
    ['an approver who is no party decides', strict, 'slack:U0BOB', renewalOfAlices, null],
    ['a CLI approver decides a Slack requester’s renewal', strict, 'cli:carol', renewalOfAlices, null],
    [
      'not in the list: refused, naming who may',
      strict,
      'cli:mallory',
      renewalOfAlices,
      /^cli:mallory may not decide approvals; who may: slack:U0BOB, slack:U0ALICE, cli:carol, cli:alice \(SLACK_APPROVERS, CLI_APPROVERS\)$/,
    ],
    [
      'empty list: nobody, even with self-approval on',
      nobody,
      'cli:carol',
      issuanceByCarol,
      /nobody may, SLACK_APPROVERS and CLI_APPROVERS are empty/,
    ],
    [
      'a name that only looks like an approver (env user vs OS user)',
      strict,
      'cli:Alice',
      renewalOfAlices,
      /cli:Alice may not decide/,
    ],
    [
      'the certificate’s requester cannot decide its renewal',
      strict,
      'slack:U0ALICE',
      renewalOfAlices,
      /^slack:U0ALICE requested certificate "www" and cannot decide its renewal: someone else must decide \(four eyes; APPROVAL_ALLOW_SELF=true allows it\)$/,
    ],
    [
      'a renewal asked by the scheduler before requesters were recorded: still the requester',
      strict,
      'slack:U0ALICE',
      legacyRenewal,
      /slack:U0ALICE requested certificate "www" and cannot decide its renewal/,
    ],
    ['the scheduler itself is no party to refuse for', strict, 'slack:U0BOB', legacyRenewal, null],
    [
      'the requester of an issuance cannot decide it',
      strict,
      'cli:carol',
      issuanceByCarol,
      /cli:carol requested certificate "api" and cannot decide its issuance/,
    ],
    [
      'whoever re-asked cannot decide it',
      strict,
      'slack:U0BOB',
      reRequestedByBob,
      /slack:U0BOB asked for this issuance of "api" and cannot decide their own request/,
    ],
    [
      'nor can the certificate’s original requester',
      strict,
      'cli:carol',
      reRequestedByBob,
      /cli:carol requested certificate "api" and cannot decide its issuance/,
    ],
    ['APPROVAL_ALLOW_SELF lets the parties decide', lenient, 'slack:U0ALICE', renewalOfAlices, null],
    [
      'APPROVAL_ALLOW_SELF does not make outsiders approvers',
      lenient,
      'cli:mallory',
      renewalOfAlices,
      /cli:mallory may not decide/,
    ],
  ])('%s', (_scenario, policy, actor, parties, expected) => {
    const refusal = refusalFor(policy, actor, parties);
    if (expected === null) expect(refusal).toBeNull();
    else expect(refusal).toMatch(expected);
  });
});
