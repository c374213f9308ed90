import { describe, expect, it } from 'vitest';
import { type HintWords, sayCommands } from '../../core/errors.ts';

const CLI: HintWords = { command: (w) => `bigip-acme ${w.join(' ')}`, option: (o) => `--${o}` };
import {
  type CertificateHealthInput,
  certificateHealth,
  type HealthFacts,
  type RecordedFailure,
} from '../../core/domain/certificate-health.ts';

const NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

/** A healthy issued 90-day certificate, 30 days into its life, renewing at 2/3. */
function cert(over: Partial<HealthFacts> = {}): HealthFacts {
  return {
    id: 'c1',
    name: 'www.example.com',
    state: 'issued',
    serial: '0abc',
    problem: null,
    failedAttempts: 0,
    nextAttemptAt: null,
    notBefore: at(-30),
    notAfter: at(60),
    renewAt: at(30),
    ...over,
  };
}

const outage: RecordedFailure = {
  code: 'acme_unreachable',
  message: 'connect ECONNREFUSED 127.0.0.1:9',
  at: at(-0.5),
  attempt: 1,
};

/** The health, its summary as the CLI says it (the core marks the commands it mentions; each edge words them). */
function health(over: Partial<HealthFacts>, input: Partial<Omit<CertificateHealthInput, 'cert'>> = {}) {
  const h = certificateHealth({ cert: cert(over), autoRenew: true, lastFailure: null, now: NOW, ...input });
  return h && { ...h, summary: sayCommands(h.summary, CLI) };
}

describe('certificateHealth', () => {
  it.each<[string, Partial<HealthFacts>, Partial<Omit<CertificateHealthInput, 'cert'>>, string | null, string | null]>([
    ['a healthy issued certificate', {}, {}, null, null],
    ['a renewal in flight without failures', { state: 'ordering' }, {}, null, null],
    [
      'a first issuance under way',
      { state: 'ordering', serial: null, notAfter: null, notBefore: null, renewAt: null },
      {},
      null,
      null,
    ],
    // The CA outage: the renewal sits in `ordering` (the row never says `failed`), the reason only in the outbox.
    [
      'a renewal failing during a CA outage, still ordering',
      { state: 'ordering', failedAttempts: 9, nextAttemptAt: at(1) },
      { lastFailure: outage },
      'renewal_failing',
      'failing',
    ],
    [
      'a renewal failure that kept the certificate issued with its problem',
      { problem: { type: 'acme_unreachable', detail: 'CA down' } },
      {},
      'renewal_failing',
      'failing',
    ],
    [
      'a renewal the CA refused (failed)',
      {
        state: 'failed',
        failedAttempts: 1,
        problem: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'validation failed' },
      },
      {},
      'renewal_failing',
      'failing',
    ],
    [
      'a first issuance that failed',
      {
        state: 'failed',
        serial: null,
        notAfter: null,
        notBefore: null,
        renewAt: null,
        problem: { type: 'acme_order_invalid', detail: 'orders invalidated' },
      },
      {},
      'issuance_failed',
      'failing',
    ],
    [
      'a first issuance an approver denied',
      {
        state: 'failed',
        serial: null,
        notAfter: null,
        notBefore: null,
        renewAt: null,
        problem: { type: 'issuance_denied', detail: 'issuance denied by U2: no' },
      },
      {},
      'issuance_denied',
      'degraded',
    ],
    ['an expired certificate', { notBefore: at(-91), notAfter: at(-1), renewAt: at(-31) }, {}, 'expired', 'failing'],
    [
      'an expired certificate whose renewal fails',
      { state: 'ordering', notBefore: at(-91), notAfter: at(-1), failedAttempts: 4 },
      { lastFailure: outage },
      'expired',
      'failing',
    ],
    [
      'expiring within 7 days with auto renewal off',
      { notBefore: at(-85), notAfter: at(5), renewAt: at(-25) },
      { autoRenew: false },
      'expiring',
      'degraded',
    ],
    [
      'expiring within 21 days with its renewal overdue',
      { notBefore: at(-70), notAfter: at(20), renewAt: at(-10) },
      {},
      'expiring',
      'degraded',
    ],
    [
      'inside 21 days but renewing on time (a 45-day certificate)',
      { notBefore: at(-25), notAfter: at(20), renewAt: at(5) },
      {},
      null,
      null,
    ],
    [
      'a first issuance waiting for challenge content',
      {
        state: 'awaiting_challenge',
        serial: null,
        notAfter: null,
        notBefore: null,
        renewAt: null,
        problem: { type: 'challenge_unreachable', detail: 'x' },
      },
      {},
      'awaiting_challenge',
      'degraded',
    ],
    // Renewals beside the live certificate (migration 0007): the row stays issued.
    ['a renewal in flight beside the live certificate', { renewalState: 'ordering' }, {}, null, null],
    [
      'a renewal failing beside the live certificate',
      {
        renewalState: 'ordering',
        failedAttempts: 3,
        nextAttemptAt: at(0.01),
        lastRenewalError: { code: 'acme_unreachable', message: 'CA down', at: at(-0.01).toISOString() },
      },
      {},
      'renewal_failing',
      'failing',
    ],
    [
      'a renewal the CA refused, started by hand (no automatic attempt counted)',
      {
        renewalState: 'failed',
        lastRenewalError: { code: 'acme_order_invalid', message: 'no', at: at(-1).toISOString() },
      },
      {},
      'renewal_failing',
      'failing',
    ],
    [
      'a renewal started by hand waiting for challenge content',
      { renewalState: 'awaiting_challenge' },
      {},
      'awaiting_challenge',
      'degraded',
    ],
    ['the live certificate revoked', { revokedSerial: '0abc', revokedAt: at(-1) }, {}, 'revoked', 'degraded'],
    ['the certificate a reissue replaced was revoked', { revokedSerial: '0aaa', revokedAt: at(-1) }, {}, null, null],
    ['revoked and expired: expired first', { revokedSerial: '0abc', notAfter: at(-1) }, {}, 'expired', 'failing'],
    [
      'revoked and its replacement failing: the failing renewal first',
      { revokedSerial: '0abc', failedAttempts: 2, nextAttemptAt: at(1) },
      {},
      'renewal_failing',
      'failing',
    ],
  ])('%s', (_what, over, input, concern, level) => {
    const h = health(over, input);
    expect(h?.concern ?? null).toBe(concern);
    expect(h?.level ?? null).toBe(level);
  });

  it('says a revocation, and what replaces it: the renew run, or a person on a manual profile', () => {
    const revoked = {
      revokedSerial: '0abc',
      revokedAt: at(-1),
      revocationReason: 'keyCompromise' as const,
      revokedBy: 'cli:alice',
    };
    expect(health(revoked)?.summary).toBe(
      'revoked 2030-05-31T12:00:00Z (keyCompromise, by cli:alice); BIG-IPs bound to it keep serving it until the next renew run replaces it and the deploy job deploys the replacement',
    );
    expect(health(revoked, { autoRenew: false })?.summary).toContain(
      'until a replacement is deployed: bigip-acme cert renew www.example.com, then bigip-acme cert deploy www.example.com',
    );
  });

  it('names the recorded error, the attempt count, the next attempt and the expiry of a failing renewal', () => {
    const h = health({ state: 'ordering', failedAttempts: 9, nextAttemptAt: at(1) }, { lastFailure: outage });
    expect(h?.summary).toBe(
      'renewal failing (9 failed attempts): connect ECONNREFUSED 127.0.0.1:9 (attempt 1, 2030-06-01T00:00:00Z); next attempt 2030-06-02T12:00:00Z; the current certificate expires 2030-07-31T12:00:00Z',
    );
    expect(h?.lastError).toEqual(outage);
  });

  it("prefers the row's own last renewal error to the outbox's, with the attempt count", () => {
    const own = { code: 'acme_timeout', message: 'the CA timed out', at: '2030-06-01T11:58:00.000Z' };
    const h = health(
      { renewalState: 'ordering', failedAttempts: 5, nextAttemptAt: at(0.01), lastRenewalError: own },
      { lastFailure: outage },
    );
    expect(h?.lastError).toEqual({
      code: 'acme_timeout',
      message: 'the CA timed out',
      at: new Date(own.at),
      attempt: 5,
    });
    expect(h?.summary).toContain(
      'renewal failing (5 failed attempts): the CA timed out (attempt 5, 2030-06-01T11:58:00Z); next attempt',
    );
  });

  it('falls back to the problem on the row, and says so when nothing was recorded at all', () => {
    expect(health({ problem: { type: 'acme_unreachable', detail: 'CA down' } })?.lastError).toEqual({
      code: 'acme_unreachable',
      message: 'CA down',
      at: null,
      attempt: null,
    });
    expect(health({ state: 'ordering', failedAttempts: 1 })?.summary).toContain('no error recorded');
  });

  it('ignores a recorded failure once the streak it belongs to has ended (a success resets the count)', () => {
    expect(health({}, { lastFailure: outage })).toBeNull();
  });

  it('tells how to go on after a failed request, and that the next attempt is the next run once its time has passed', () => {
    expect(
      health({
        state: 'failed',
        serial: null,
        notAfter: null,
        notBefore: null,
        renewAt: null,
        problem: { type: 't', detail: 'd' },
      })?.summary,
    ).toContain('bigip-acme cert resume www.example.com');
    expect(
      health({ state: 'ordering', failedAttempts: 2, nextAttemptAt: at(-1) }, { lastFailure: outage })?.summary,
    ).toContain('next attempt at the next renew run');
  });
});
