import { describe, expect, it } from 'vitest';
import {
  ARI_DEFAULT_RETRY_MS,
  ARI_MAX_RETRY_MS,
  ARI_MIN_RETRY_MS,
  ariRetryAfterMs,
  parseRenewalInfoBody,
} from '../../core/acme/renewal-info.ts';

const START = '2026-12-01T00:00:00Z';
const END = '2026-12-03T00:00:00Z';

describe('parseRenewalInfoBody', () => {
  it.each([
    {
      scenario: 'a valid window with an explanation URL',
      body: { suggestedWindow: { start: START, end: END }, explanationURL: 'https://ca.example/why' },
      window: { start: new Date(START), end: new Date(END) },
      explanationUrl: 'https://ca.example/why',
    },
    {
      scenario: 'fractional seconds and offsets (RFC 3339)',
      body: { suggestedWindow: { start: '2026-12-01T01:00:00.123+01:00', end: '2026-12-01T00:30:00.5Z' } },
      window: { start: new Date('2026-12-01T00:00:00.123Z'), end: new Date('2026-12-01T00:30:00.500Z') },
      explanationUrl: null,
    },
    {
      scenario: 'end before start',
      body: { suggestedWindow: { start: END, end: START } },
      window: null,
      explanationUrl: null,
    },
    {
      scenario: 'end equal to start',
      body: { suggestedWindow: { start: START, end: START } },
      window: null,
      explanationUrl: null,
    },
    {
      scenario: 'a malformed window still keeps the explanation URL',
      body: { suggestedWindow: { start: END, end: START }, explanationURL: 'https://ca.example/why' },
      window: null,
      explanationUrl: 'https://ca.example/why',
    },
    {
      scenario: 'no suggestedWindow',
      body: { explanationURL: 'ftp://ca.example/x' },
      window: null,
      explanationUrl: null,
    },
    { scenario: 'no end', body: { suggestedWindow: { start: START } }, window: null, explanationUrl: null },
    { scenario: 'no start', body: { suggestedWindow: { end: END } }, window: null, explanationUrl: null },
    {
      scenario: 'numbers instead of timestamps',
      body: { suggestedWindow: { start: 1, end: 2 } },
      window: null,
      explanationUrl: null,
    },
    {
      scenario: 'timestamps that are not RFC 3339',
      body: { suggestedWindow: { start: 'Dec 1 2026', end: 'Dec 3 2026' } },
      window: null,
      explanationUrl: null,
    },
    {
      scenario: 'an impossible date',
      body: { suggestedWindow: { start: '2026-13-45T00:00:00Z', end: END } },
      window: null,
      explanationUrl: null,
    },
    { scenario: 'suggestedWindow is a string', body: { suggestedWindow: 'soon' }, window: null, explanationUrl: null },
    { scenario: 'a non-JSON body (string)', body: '<html>', window: null, explanationUrl: null },
    { scenario: 'null', body: null, window: null, explanationUrl: null },
    {
      scenario: 'an explanation URL that is not a URL',
      body: { suggestedWindow: { start: START, end: END }, explanationURL: 'not a url' },
      window: { start: new Date(START), end: new Date(END) },
      explanationUrl: null,
    },
  ])('$scenario', ({ body, window, explanationUrl }) => {
    expect(parseRenewalInfoBody(body)).toEqual({ window, explanationUrl });
  });
});

describe('ariRetryAfterMs', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  const H = 3_600_000;
  it.each([
    { scenario: 'absent → 6 h', header: undefined, expected: 6 * H },
    { scenario: 'empty → 6 h', header: '', expected: 6 * H },
    { scenario: 'unreadable → 6 h', header: 'soon', expected: 6 * H },
    { scenario: 'not an integer → 6 h', header: '1.5', expected: 6 * H },
    { scenario: 'negative → 6 h', header: '-5', expected: 6 * H },
    { scenario: 'seconds inside the bounds', header: '21600', expected: 6 * H },
    { scenario: 'seconds with spaces', header: ' 7200 ', expected: 2 * H },
    { scenario: 'exactly 1 h', header: '3600', expected: H },
    { scenario: 'below 1 h → 1 h', header: '60', expected: H },
    { scenario: 'zero → 1 h', header: '0', expected: H },
    { scenario: 'exactly 7 d', header: String(7 * 86_400), expected: 7 * 24 * H },
    { scenario: 'above 7 d → 7 d', header: String(30 * 86_400), expected: 7 * 24 * H },
    { scenario: 'HTTP-date 3 h ahead', header: 'Thu, 26 Nov 2026 15:00:00 GMT', expected: 3 * H },
    { scenario: 'HTTP-date in the past → 1 h', header: 'Thu, 26 Nov 2026 11:00:00 GMT', expected: H },
    { scenario: 'HTTP-date a month ahead → 7 d', header: 'Sat, 26 Dec 2026 12:00:00 GMT', expected: 7 * 24 * H },
  ])('$scenario', ({ header, expected }) => {
    expect(ariRetryAfterMs(header, now)).toBe(expected);
  });

  it('exports its bounds', () => {
    expect([ARI_MIN_RETRY_MS, ARI_DEFAULT_RETRY_MS, ARI_MAX_RETRY_MS]).toEqual([3_600_000, 21_600_000, 604_800_000]);
  });
});
