import { beforeAll, describe, expect, it } from 'vitest';
import { checkCaPem } from '../../core/domain/validation/ca-pem.ts';
import { deployRefusal } from '../../core/domain/validation/deploy-precheck.ts';
import { checkDeviceFields, type DeviceFields } from '../../core/domain/validation/device-input.ts';
import { invalidInput } from '../../core/domain/validation/field-problems.ts';
import { makeCertificate } from '../fixtures/builders.ts';
import { managementCertificate } from '../support/bigip-simulator/self-signed.ts';

let pem: string;
beforeAll(async () => {
  pem = (await managementCertificate()).certPem;
});

describe('checkCaPem', () => {
  it.each([
    ['no PEM at all', () => 'hello', /holds no PEM certificate/],
    [
      'a block that does not parse',
      () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      /cannot be parsed/,
    ],
    ['one good block with text around it', () => `issuer: lab\n${pem}\ntrailer`, null],
    ['CRLF line ends', () => pem.replace(/\n/g, '\r\n'), null],
  ])('%s', (_name, input, problem) => {
    const checked = checkCaPem(input());
    if (problem === null) {
      expect(checked).toMatchObject({
        ok: true,
        pem: expect.stringMatching(/^-----BEGIN CERTIFICATE-----[\s\S]*-----\n$/),
      });
    } else {
      expect(checked).toMatchObject({ ok: false, problem: expect.stringMatching(problem) });
    }
  });
});

describe('checkDeviceFields: each problem on its field', () => {
  const fine = (): DeviceFields => ({
    name: 'bigip-1',
    url: 'https://10.0.0.5:8443',
    username: 'admin',
    password: 's3cret-Pa55',
    caPem: pem,
  });
  it.each<[string, Partial<DeviceFields>, string[]]>([
    ['nothing wrong', {}, []],
    ['a bad name', { name: 'bad name' }, ['name']],
    ['a URL with a path', { url: 'https://10.0.0.5/mgmt' }, ['url']],
    ['not a URL', { url: '10.0.0.5' }, ['url']],
    ['plain http without skipping verification', { url: 'http://10.0.0.5' }, ['url']],
    ['plain http with verification off', { url: 'http://10.0.0.5', caPem: '', insecure: true }, []],
    ['a user name with a colon', { username: 'ad:min' }, ['username']],
    ['no password', { password: '' }, ['password']],
    ['a bad partition', { partition: '/Common' }, ['partition']],
    ['both a CA bundle and verification off', { insecure: true }, ['insecure']],
    ['a CA bundle that is no PEM', { caPem: 'hello' }, ['caPem']],
    ['several at once', { name: '', password: '', caPem: 'hello' }, ['name', 'password', 'caPem']],
  ])('%s', (_name, over, fields) => {
    const checked = checkDeviceFields({ ...fine(), ...over });
    if (fields.length === 0) expect(checked.ok).toBe(true);
    else {
      expect(checked.ok).toBe(false);
      if (!checked.ok) {
        expect(Object.keys(checked.problems).sort()).toEqual([...fields].sort());
        expect(JSON.stringify(checked.problems)).not.toContain('s3cret');
      }
    }
  });

  it('normalises what it accepts: trimmed, scheme://host:port, Common by default, the bundle as blocks', () => {
    const checked = checkDeviceFields({ ...fine(), name: ' bigip-1 ', url: 'https://10.0.0.5:8443/', partition: ' ' });
    expect(checked).toMatchObject({
      ok: true,
      device: { name: 'bigip-1', url: 'https://10.0.0.5:8443', partition: 'Common', caPem: `${pem.trim()}\n` },
    });
  });
});

describe('invalidInput', () => {
  it('is input_invalid with every sentence, keeping the fields in detail', () => {
    const err = invalidInput({ name: 'bad name', password: 'no password' });
    expect(err).toMatchObject({ code: 'input_invalid', message: 'bad name; no password', retryable: false });
    expect(err.detail).toEqual({ fields: { name: 'bad name', password: 'no password' } });
  });
});

describe('deployRefusal', () => {
  const issued = {
    state: 'issued' as const,
    chainPem: 'chain',
    keySealed: 'key',
    serial: '01',
    notAfter: new Date(),
    fingerprintSha256: 'ff',
  };
  it.each([
    ['issued and bound', issued, 1, undefined, null],
    ['requested, not issued', { state: 'requested' as const }, 1, undefined, 'conflict'],
    ['issued but without its chain', { ...issued, chainPem: null }, 1, undefined, 'conflict'],
    ['issued and bound to nothing', issued, 0, undefined, 'input_invalid'],
    ['bound, but not on the device asked for', issued, 0, 'lb-2', 'input_invalid'],
    ['issued, bound, revoked', { ...issued, revokedSerial: '01' }, 1, undefined, 'conflict'],
    ['the revoked one was the certificate before this', { ...issued, revokedSerial: '00' }, 1, undefined, null],
  ])('%s', (_name, over, bound, device, code) => {
    const refusal = deployRefusal(makeCertificate('p', { name: 'www.example.com', ...over }), bound, device);
    if (code === null) expect(refusal).toBeNull();
    else expect(refusal).toMatchObject({ code });
  });

  it('says where a binding is missing and how to add one', () => {
    const refusal = deployRefusal(makeCertificate('p', { ...issued, name: 'www.example.com' }), 0, 'lb-2');
    expect(refusal?.message).toBe('certificate "www.example.com" is bound to no BIG-IP profile on lb-2');
    expect(refusal?.hint).toMatchObject({ command: ['binding', 'add'] });
  });
});
