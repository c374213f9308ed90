import { describe, expect, it } from 'vitest';
import { parseManagementUrl as parseConfiguredUrl } from '../../core/bigip/icontrol-transport.ts';
import { managementUrlProblem, parseManagementUrl } from '../../core/domain/device.ts';

describe('the BIG-IP management URL rule', () => {
  it.each<[string, string, RegExp | null]>([
    ['https with a port', 'https://10.0.0.5:8443', null],
    ['plain http (allowed here; the device service asks for --insecure)', 'http://bigip.example', null],
    ['a trailing slash', 'https://bigip.example/', null],
    ['not a URL', 'bigip.example', /is not a valid URL/],
    ['another scheme', 'ftp://bigip.example', /must be https:\/\/ \(or http:\/\/\), not ftp/],
    ['credentials', 'https://admin:s3cret@bigip.example', /must not carry credentials/],
    ['a path', 'https://bigip.example/mgmt', /only scheme, host and port/],
    ['a query', 'https://bigip.example?a=1', /only scheme, host and port/],
    ['a fragment', 'https://bigip.example#x', /only scheme, host and port/],
  ])('%s', (_case, input, problem) => {
    const found = managementUrlProblem(input);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it('gives a typed URL as scheme://host[:port] and refuses a bad one as input_invalid', () => {
    expect(parseManagementUrl('https://10.0.0.5:8443/')).toBe('https://10.0.0.5:8443');
    expect(() => parseManagementUrl('https://x/mgmt')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
  });

  it('refuses a configured URL as config_invalid, by the same rule', () => {
    expect(() => parseConfiguredUrl('https://x/mgmt')).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    expect(parseConfiguredUrl('https://10.0.0.5:8443').host).toBe('10.0.0.5:8443');
  });

  it.each(['https://admin:s3cret@big ip', 'admin:s3cret', 'https://admin:s3cret@bigip.example'])(
    'never quotes the input back (it can hold a password): %s',
    (input) => {
      expect(managementUrlProblem(input)).not.toContain('s3cret');
      expect(() => parseManagementUrl(input)).toThrow(
        expect.not.objectContaining({ message: expect.stringContaining('s3cret') }),
      );
    },
  );
});
