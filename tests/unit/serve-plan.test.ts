import { describe, expect, it } from 'vitest';
import type { ChallengeType } from '../../core/domain/challenge-type.ts';
import { type KnownDomain, planServeNames } from '../../core/domain/serve-plan.ts';

const known = (name: string, over: Partial<KnownDomain> = {}): KnownDomain => ({
  name,
  challengeType: 'http-01',
  status: 'pending',
  hasEndpoint: false,
  usesDataGroups: false,
  ...over,
});

describe('planServeNames: what each name needs before the CA is asked, without a person', () => {
  it.each<[string, KnownDomain[], ChallengeType, boolean, string]>([
    ['a valid domain is ready', [known('a.test', { status: 'valid' })], 'http-01', true, 'ready'],
    [
      'a valid dns-01 domain is ready too',
      [known('a.test', { status: 'valid', challengeType: 'dns-01' })],
      'http-01',
      false,
      'ready',
    ],
    [
      'a pending domain with an endpoint is published there',
      [known('a.test', { hasEndpoint: true, challengeType: 'dns-01' })],
      'http-01',
      false,
      'test:endpoint',
    ],
    [
      'a pending domain on data-groups is published there',
      [known('a.test', { usesDataGroups: true })],
      'http-01',
      false,
      'test:data-group',
    ],
    [
      'a pending http-01 domain is served by the built-in responder',
      [known('a.test')],
      'http-01',
      true,
      'test:built-in',
    ],
    [
      'a pending tls-alpn-01 domain is served by the built-in responder',
      [known('a.test', { challengeType: 'tls-alpn-01', status: 'invalid' })],
      'http-01',
      true,
      'test:built-in',
    ],
    [
      'a pending http-01 domain without a responder needs a person',
      [known('a.test')],
      'http-01',
      false,
      'needs_person',
    ],
    [
      'a pending dns-01 domain without endpoint needs a person',
      [known('a.test', { challengeType: 'dns-01' })],
      'http-01',
      true,
      'needs_person',
    ],
    ['a new name is added with the chosen type', [], 'tls-alpn-01', true, 'add:tls-alpn-01'],
    ['a new name cannot be added as dns-01', [], 'dns-01', true, 'needs_person'],
    ['a new name without a responder needs a person', [], 'http-01', false, 'needs_person'],
  ])('%s', (_what, domains, newNameType, builtinResponder, expected) => {
    const [step] = planServeNames({ names: ['a.test'], known: domains, newNameType, builtinResponder });
    const got =
      step!.step === 'add' ? `add:${step!.challengeType}` : step!.step === 'test' ? `test:${step!.via}` : step!.step;
    expect(got).toBe(expected);
  });

  it('refuses a new wildcard (dns-01 only) and keeps the order asked', () => {
    const plan = planServeNames({
      names: ['www.a.test', '*.a.test', 'a.test'],
      known: [known('a.test', { status: 'valid' })],
      newNameType: 'http-01',
      builtinResponder: true,
    });
    expect(plan.map((p) => `${p.name}=${p.step}`)).toEqual(['www.a.test=add', '*.a.test=needs_person', 'a.test=ready']);
    expect(plan[1]).toMatchObject({ reason: expect.stringContaining('wildcard') });
  });
});
