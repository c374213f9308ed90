import { describe, expect, it } from 'vitest';
import {
  acmeDnsCname,
  parseAcmeDnsUrl,
  parseDnsServer,
  parseRfc2136Settings,
  parseTsigSecret,
} from '../../core/domain/dns-publisher.ts';

describe('DNS method settings', () => {
  it.each([
    ['ns1.example.com', { host: 'ns1.example.com', port: 53 }],
    ['ns1.example.com:5353', { host: 'ns1.example.com', port: 5353 }],
    ['192.0.2.1', { host: '192.0.2.1', port: 53 }],
    ['192.0.2.1:53', { host: '192.0.2.1', port: 53 }],
    ['[2001:db8::1]:53', { host: '2001:db8::1', port: 53 }],
    [' ns1.example.com ', { host: 'ns1.example.com', port: 53 }],
  ])('server %s', (input, expected) => {
    expect(parseDnsServer(input)).toEqual(expected);
  });

  it.each([
    '',
    'ns1 example',
    'ns1.example.com:0',
    'ns1.example.com:65536',
    'http://ns1',
    '2001:db8::1',
    '-bad.example',
  ])('refuses server %j', (input) => {
    expect(() => parseDnsServer(input)).toThrow(/must be host, host:port or \[v6\]:port/);
  });

  it.each([
    [
      { server: 'ns1.example.com', keyName: 'acme-www.', algorithm: 'HMAC-SHA512', zone: 'Example.COM.' },
      { server: 'ns1.example.com:53', keyName: 'acme-www', algorithm: 'hmac-sha512', zone: 'example.com' },
    ],
    [
      { server: '[::1]:5353', keyName: 'k', algorithm: 'hmac-sha256', zone: '' },
      { server: '[::1]:5353', keyName: 'k', algorithm: 'hmac-sha256', zone: null },
    ],
  ])('settings %j', (input, expected) => {
    expect(parseRfc2136Settings(input)).toEqual({ kind: 'rfc2136', ...expected });
  });

  it.each([
    [
      { server: 'ns1', keyName: 'k', algorithm: 'hmac-md5' },
      /TSIG algorithm "hmac-md5" is not supported; use one of hmac-sha256, hmac-sha384, hmac-sha512/,
    ],
    [{ server: 'ns1', keyName: 'bad key', algorithm: 'hmac-sha256' }, /TSIG key name "bad key" must be a DNS name/],
    [
      { server: 'ns1', keyName: 'k', algorithm: 'hmac-sha256', zone: 'not a zone' },
      /zone "not a zone" is not a DNS name/,
    ],
  ])('refuses %j', (input, message) => {
    expect(() => parseRfc2136Settings(input)).toThrow(message);
  });

  it.each([
    ['8HMYx/ycROfPZX8c3/lmS+C9OtHTQyhXwWcXL9Io510=\n', 32],
    ['  AAAAAAAAAAAAAAAAAAAAAA==  ', 16],
  ])('secret %j', (input, bytes) => {
    expect(parseTsigSecret(input)).toHaveLength(bytes);
  });

  it.each([
    ['not base64!', /must be base64/],
    ['AAAA', /at least 16 bytes/],
    ['AAAAAAAAAAAAAAAAAAAAAA=', /must be base64/],
  ])('refuses secret %j without echoing it', (input, message) => {
    expect(() => parseTsigSecret(input)).toThrow(message);
    try {
      parseTsigSecret(input);
    } catch (err) {
      expect((err as Error).message).not.toContain(input.trim());
    }
  });

  it.each([
    ['https://acme-dns.example.com/', 'https://acme-dns.example.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('acme-dns URL %s', (input, expected) => {
    expect(parseAcmeDnsUrl(input)).toBe(expected);
  });

  it.each(['ftp://x', 'https://u:p@x', 'nope'])('refuses acme-dns URL %s', (input) => {
    expect(() => parseAcmeDnsUrl(input)).toThrow(/acme-dns server/);
  });

  it('writes the CNAME as a zone-file line', () => {
    expect(acmeDnsCname('_acme-challenge.www.example.com', 'abc.auth.example.org.')).toBe(
      '_acme-challenge.www.example.com. CNAME abc.auth.example.org.',
    );
  });
});
