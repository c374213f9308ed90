import { describe, expect, it } from 'vitest';
import {
  autoRenewOff,
  decideRenewal,
  notYetIssued,
  RENEWAL_POLICY_CHAIN,
  type RenewalPolicy,
  type RenewalPolicyInput,
  type RenewalVerdict,
  renewalInFlight,
  renewalTimeReached,
  retryBackoffNotElapsed,
  revokedCertificate,
} from '../../core/issuance/renewal-policies.ts';

const NOW = new Date('2030-01-15T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const ahead = (ms: number) => new Date(NOW.getTime() + ms);

/** An issued, bound, unrevoked certificate of an auto-renewing profile, renewal time not yet reached, nothing in flight. */
function input(cert: Partial<RenewalPolicyInput['cert']> = {}, autoRenew = true, bound = true): RenewalPolicyInput {
  return {
    cert: {
      state: 'issued',
      renewalState: null,
      renewalStartedAt: null,
      renewAt: ahead(86_400_000),
      nextAttemptAt: null,
      serial: 'aa01',
      revokedSerial: null,
      ...cert,
    },
    profile: { autoRenew },
    bound,
    now: NOW,
  };
}
const REVOKED = { revokedSerial: 'aa01' };

type Row = [scenario: string, given: RenewalPolicyInput, expected: RenewalVerdict | null];

const tables: [name: string, policy: RenewalPolicy, rows: Row[]][] = [
  [
    'retryBackoffNotElapsed',
    retryBackoffNotElapsed,
    [
      ['never failed', input(), null],
      ['backoff over', input({ nextAttemptAt: ago(1) }), null],
      ['backoff ends right now', input({ nextAttemptAt: NOW }), null],
      ['backoff still running', input({ nextAttemptAt: ahead(1) }), { renew: false, reason: 'retry_backoff' }],
      [
        'backoff still running for a renewal in flight',
        input({ renewalState: 'ordering', renewalStartedAt: ago(60_000), nextAttemptAt: ahead(60_000) }),
        { renew: false, reason: 'retry_backoff' },
      ],
    ],
  ],
  [
    'renewalInFlight',
    renewalInFlight,
    [
      ['nothing in flight', input(), null],
      [
        'a renewal beside the live certificate',
        input({ renewalState: 'awaiting_challenge', renewalStartedAt: ago(60_000) }),
        { renew: true, reason: 'renewal_in_flight' },
      ],
      [
        'an older row whose own state moved (renewal started, not issued)',
        input({ state: 'failed', renewalStartedAt: ago(60_000) }),
        { renew: true, reason: 'renewal_in_flight' },
      ],
      ['issued with a stale start time and no renewal state', input({ renewalStartedAt: ago(60_000) }), null],
      ['a first issuance half-way (never a renewal)', input({ state: 'ordering' }), null],
    ],
  ],
  [
    'notYetIssued',
    notYetIssued,
    [
      ['issued', input(), null],
      ['requested', input({ state: 'requested' }), { renew: false, reason: 'not_issued' }],
      ['failed first issuance', input({ state: 'failed' }), { renew: false, reason: 'not_issued' }],
      ['waiting for challenge content', input({ state: 'awaiting_challenge' }), { renew: false, reason: 'not_issued' }],
    ],
  ],
  [
    'autoRenewOff',
    autoRenewOff,
    [
      ['auto-renewing profile', input(), null],
      ['manual profile', input({}, false), { renew: false, reason: 'auto_renew_off' }],
    ],
  ],
  [
    'revokedCertificate',
    revokedCertificate,
    [
      ['not revoked', input(), null],
      ['revoked and bound', input(REVOKED), { renew: true, reason: 'revoked' }],
      ['revoked, nothing bound', input(REVOKED, true, false), { renew: false, reason: 'revoked_unbound' }],
      ['the certificate a reissue replaced was revoked', input({ revokedSerial: 'aa00' }), null],
      ['a first issuance (no serial) is never revoked', input({ serial: null, revokedSerial: null }), null],
    ],
  ],
  [
    'renewalTimeReached',
    renewalTimeReached,
    [
      ['no renewal time', input({ renewAt: null }), { renew: false, reason: 'not_scheduled' }],
      ['renewal time ahead', input({ renewAt: ahead(1) }), { renew: false, reason: 'renewal_time_ahead' }],
      ['renewal time now', input({ renewAt: NOW }), { renew: true, reason: 'renewal_time_reached' }],
      ['renewal time passed', input({ renewAt: ago(1) }), { renew: true, reason: 'renewal_time_reached' }],
    ],
  ],
];

for (const [name, policy, rows] of tables) {
  describe(`renewal policy ${name}`, () => {
    it.each(rows)('%s', (_scenario, given, expected) => {
      expect(policy(given)).toEqual(expected);
    });
  });
}

describe('the renewal policy chain (the one "due" rule)', () => {
  const rows: Row[] = [
    [
      'due: issued, auto-renew, renewal time passed',
      input({ renewAt: ago(1) }),
      { renew: true, reason: 'renewal_time_reached' },
    ],
    ['not yet due', input(), { renew: false, reason: 'renewal_time_ahead' }],
    [
      'due but backing off',
      input({ renewAt: ago(1), nextAttemptAt: ahead(1) }),
      { renew: false, reason: 'retry_backoff' },
    ],
    ['due on a manual profile', input({ renewAt: ago(1) }, false), { renew: false, reason: 'auto_renew_off' }],
    [
      'in flight on a manual profile, renewal time ahead (a person started it)',
      input({ renewalState: 'ordering', renewalStartedAt: ago(60_000) }, false),
      { renew: true, reason: 'renewal_in_flight' },
    ],
    [
      'in flight and backing off',
      input({ renewalState: 'requested', renewalStartedAt: ago(60_000), nextAttemptAt: ahead(1) }),
      { renew: false, reason: 'retry_backoff' },
    ],
    [
      'failed renewal from an older row, backoff over',
      input({ state: 'failed', renewalStartedAt: ago(100), nextAttemptAt: ago(1) }),
      { renew: true, reason: 'renewal_in_flight' },
    ],
    ['a first issuance half-way', input({ state: 'ordering', renewAt: null }), { renew: false, reason: 'not_issued' }],
    ['revoked and bound, renewal time far ahead', input(REVOKED), { renew: true, reason: 'revoked' }],
    [
      'revoked, unbound, renewal time passed: left alone',
      input({ ...REVOKED, renewAt: ago(1) }, true, false),
      { renew: false, reason: 'revoked_unbound' },
    ],
    ['revoked and bound on a manual profile', input(REVOKED, false), { renew: false, reason: 'auto_renew_off' }],
    [
      'revoked and bound, backing off after a failed replacement',
      input({ ...REVOKED, nextAttemptAt: ahead(1) }),
      { renew: false, reason: 'retry_backoff' },
    ],
    [
      'revoked with the replacement in flight',
      input({ ...REVOKED, renewalState: 'ordering', renewalStartedAt: ago(1) }),
      { renew: true, reason: 'renewal_in_flight' },
    ],
    ['issued, never scheduled', input({ renewAt: null }), { renew: false, reason: 'not_scheduled' }],
  ];
  it.each(rows)('%s', (_scenario, given, expected) => {
    expect(decideRenewal(given)).toEqual(expected);
  });

  it('the first policy with an opinion decides; the chain stops there', () => {
    const calls: string[] = [];
    const spy =
      (name: string, verdict: RenewalVerdict | null): RenewalPolicy =>
      () => {
        calls.push(name);
        return verdict;
      };
    const verdict = decideRenewal(input(), [
      spy('a', null),
      spy('b', { renew: false, reason: 'auto_renew_off' }),
      spy('c', { renew: true, reason: 'renewal_time_reached' }),
    ]);
    expect(verdict).toEqual({ renew: false, reason: 'auto_renew_off' });
    expect(calls).toEqual(['a', 'b']);
  });

  it('the last policy of the default chain always decides', () => {
    const last = RENEWAL_POLICY_CHAIN.at(-1)!;
    for (const renewAt of [null, ago(1), ahead(1)]) expect(last(input({ renewAt }))).not.toBeNull();
  });
});
