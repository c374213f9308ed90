import { describe, expect, it } from 'vitest';
import {
  assertRecordText,
  assertTransactionId,
  assertUploadName,
  assertUploadPath,
  chainForRequest,
  toClientSslProfile,
  toClientSslProfiles,
  toDataGroup,
  toDeviceInfo,
  toSslCertFile,
  toSslKeyFile,
  toVirtualServer,
} from '../../core/bigip/icontrol-records.ts';

const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

describe('values that reach tmsh strings or device paths', () => {
  it('accepts ACME tokens and key authorizations as record text', () => {
    expect(assertRecordText(TOKEN, 'name')).toBe(TOKEN);
    expect(assertRecordText(KEY_AUTH, 'data')).toBe(KEY_AUTH);
  });

  it.each(['', 'a b', 'a}', 'a{', 'x } } ; delete', 'a"b', "a'b", 'a\nb', 'a;b', 'a$b', 'a/b', 'x'.repeat(1025)])(
    'refuses record text %j',
    (value) => {
      expect(() => assertRecordText(value, 'name')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
    },
  );

  it.each(['www.example.com.key', 'a_b-c.crt', '0x.pem'])('accepts upload name %j', (name) => {
    expect(assertUploadName(name)).toBe(name);
  });

  it.each(['', '.hidden', '../x', 'a/b', 'a..b', 'a b', 'a;rm', 'image.iso', '-rf'])(
    'refuses upload name %j',
    (name) => {
      expect(() => assertUploadName(name)).toThrow(expect.objectContaining({ code: 'input_invalid' }));
    },
  );

  it('accepts only files directly under the upload folder', () => {
    expect(assertUploadPath('/var/config/rest/downloads/x.key')).toBe('/var/config/rest/downloads/x.key');
    for (const bad of [
      '/etc/passwd',
      '/var/config/rest/downloads/../x',
      '/var/config/rest/downloads/a/b',
      '/var/config/rest/downloads/x;reboot',
      '/var/config/rest/downloads/',
    ]) {
      expect(() => assertUploadPath(bad)).toThrow(expect.objectContaining({ code: 'input_invalid' }));
    }
  });

  it('accepts only numeric transaction ids', () => {
    expect(assertTransactionId('1526674837169915')).toBe('1526674837169915');
    expect(() => assertTransactionId('1\r\nX-Evil: 1')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
  });

  it('sends certKeyChain entries with chain defaulting to none and passphrase only when set', () => {
    expect(
      chainForRequest([
        { name: 'www', cert: '/Common/www.crt', key: '/Common/www.key', chain: 'none' },
        { name: 'ec', cert: '/Common/ec.crt', key: '/Common/ec.key', chain: '/Common/chain.crt', passphrase: 'p' },
      ]),
    ).toEqual([
      { name: 'www', cert: '/Common/www.crt', key: '/Common/www.key', chain: 'none' },
      { name: 'ec', cert: '/Common/ec.crt', key: '/Common/ec.key', chain: '/Common/chain.crt', passphrase: 'p' },
    ]);
    expect(() => chainForRequest([{ name: 'x', cert: 'www.crt', key: '/Common/k', chain: 'none' }])).toThrow();
  });
});

describe('answers → port types', () => {
  it('reads an ssl-cert object', () => {
    expect(
      toSslCertFile(
        {
          fullPath: '/Common/x.crt',
          fingerprint: 'SHA256/AA:6B',
          serialNumber: '364081584',
          expirationDate: 1941774384,
          subject: 'CN=x',
          issuer: 'CN=ca',
          isBundle: 'false',
        },
        '/Common/x.crt',
      ),
    ).toEqual({
      fullPath: '/Common/x.crt',
      fingerprint: 'SHA256/AA:6B',
      serialNumber: '364081584',
      expirationDate: 1941774384,
      subject: 'CN=x',
      issuer: 'CN=ca',
      isBundle: false,
    });
    expect(toSslCertFile({ isBundle: 'true', expirationDate: '17' }, '/Common/b.crt')).toMatchObject({
      fullPath: '/Common/b.crt',
      isBundle: true,
      expirationDate: 17,
      serialNumber: null,
      fingerprint: '',
    });
  });

  it('reads an ssl-key object', () => {
    expect(toSslKeyFile({ fullPath: '/Common/x.key', keyType: 'rsa-private', securityType: 'password' }, '')).toEqual({
      fullPath: '/Common/x.key',
      keyType: 'rsa-private',
      securityType: 'password',
    });
    expect(toSslKeyFile({}, '/Common/y.key')).toEqual({
      fullPath: '/Common/y.key',
      keyType: null,
      securityType: 'normal',
    });
  });

  it('reads client-ssl profiles, defaulting a missing chain to none', () => {
    const item = {
      fullPath: '/Common/p',
      defaultsFrom: '/Common/clientssl',
      certKeyChain: [
        { name: 'default', appService: 'none', cert: '/Common/a.crt', key: '/Common/a.key', usage: 'SERVER' },
      ],
    };
    expect(toClientSslProfile(item, '/Common/p')).toEqual({
      fullPath: '/Common/p',
      defaultsFrom: '/Common/clientssl',
      certKeyChain: [{ name: 'default', cert: '/Common/a.crt', key: '/Common/a.key', chain: 'none' }],
    });
    expect(toClientSslProfile({}, '/Common/q')).toEqual({
      fullPath: '/Common/q',
      defaultsFrom: null,
      certKeyChain: [],
    });
    expect(toClientSslProfiles({ items: [item, { name: 'no-path' }] })).toHaveLength(1);
    expect(toClientSslProfiles({ kind: 'x' })).toEqual([]);
  });

  it('reads data groups, virtual servers and device info', () => {
    expect(toDataGroup({ fullPath: '/Common/dg', type: 'string' }, '/Common/dg')).toEqual({
      fullPath: '/Common/dg',
      type: 'string',
      records: [],
    });
    expect(toDataGroup({ records: [{ name: 'a', data: 'b' }, { name: 'c' }] }, '/Common/dg').records).toEqual([
      { name: 'a', data: 'b' },
      { name: 'c', data: '' },
    ]);
    expect(toVirtualServer({ fullPath: '/Common/vs', destination: '/Common/10.0.0.1:80' }, '')).toEqual({
      fullPath: '/Common/vs',
      destination: '/Common/10.0.0.1:80',
      rules: [],
    });
    expect(toDeviceInfo({ hostname: 'h', version: '17.1.2.1', product: 'BIG-IP', build: '0.0.4' })).toEqual({
      hostname: 'h',
      version: '17.1.2.1',
      product: 'BIG-IP',
      build: '0.0.4',
    });
    expect(toDeviceInfo({ hostname: 'h' })).toBeNull();
  });
});
