import { describe, expect, it } from 'vitest';
import {
  type BigIpRequestContext,
  classifyResponse,
  f5CodeOf,
  makeRedactor,
  networkError,
  parseErrorBody,
  requestLabel,
  responseError,
} from '../../core/bigip/bigip-error.ts';
import { CoreError } from '../../core/errors.ts';
import type { BigIpErrorCode } from '../../core/ports/bigip-client.ts';

const PASSWORD = 'Zebra-Quartz-9931!pw';
const TOKEN = 'KZ44TOKENABCDEFGHIJKLMNOP';
const BASIC = Buffer.from(`admin:${PASSWORD}`).toString('base64');
const KEY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

function ctx(over: Partial<BigIpRequestContext> = {}): BigIpRequestContext {
  return {
    action: 'install key /Common/www.key',
    host: 'bigip.example:443',
    request: 'POST /mgmt/tm/sys/crypto/key',
    redact: makeRedactor(() => [PASSWORD, TOKEN, BASIC]),
    timeoutMs: 30000,
    ...over,
  };
}

function json(o: unknown): Buffer {
  return Buffer.from(JSON.stringify(o));
}

function assertClean(err: CoreError): void {
  for (const text of [err.message, JSON.stringify(err.detail), String(err.cause)]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(BASIC);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('MIGHAgEAMBMGByqGSM49');
  }
  expect(err.message).not.toContain('\n');
}

describe('BIG-IP answers → BigIpError', () => {
  interface Case {
    scenario: string;
    status: number;
    body: Buffer;
    code: BigIpErrorCode;
    retryable: boolean;
    f5Code?: string | null;
    apiError?: number | null;
    says?: RegExp;
    quoteBody?: boolean;
  }
  const cases: Case[] = [
    {
      scenario: 'a login refused, echoing the request body',
      status: 401,
      body: json({
        code: 401,
        message: 'Authentication failed.',
        originalRequestBody: JSON.stringify({ username: 'admin', password: PASSWORD, loginProviderName: 'tmos' }),
        referer: '10.1.1.5',
        restOperationId: 43487692,
        kind: ':resterrorresponse',
      }),
      code: 'bigip_auth',
      retryable: false,
      says: /credentials refused \(HTTP 401\): Authentication failed\./,
    },
    {
      scenario: 'an expired token',
      status: 401,
      body: json({ code: 401, message: 'X-F5-Auth-Token has expired.', kind: ':resterrorresponse' }),
      code: 'bigip_auth',
      retryable: false,
    },
    {
      scenario: "Apache's HTML 401 to Basic auth",
      status: 401,
      body: Buffer.from(
        `<html><head><title>401 Unauthorized</title></head><body>Authorization: Basic ${BASIC}</body></html>`,
      ),
      code: 'bigip_auth',
      retryable: false,
      says: /HTML page "401 Unauthorized"/,
    },
    {
      scenario: 'a plain-text 401',
      status: 401,
      body: Buffer.from(`denied for ${PASSWORD}`),
      code: 'bigip_auth',
      retryable: false,
      says: /non-JSON body of \d+ bytes/,
    },
    {
      scenario: 'a missing object',
      status: 404,
      body: json({
        code: 404,
        message: '01020036:3: The requested value list (/Common/dg) was not found.',
        errorStack: [],
        apiError: 3,
      }),
      code: 'bigip_not_found',
      retryable: false,
      f5Code: '01020036',
      apiError: 3,
    },
    {
      scenario: 'an object that exists',
      status: 409,
      body: json({
        code: 409,
        message: '01020066:3: The requested Certificate File (/Common/SITE.crt) already exists in partition Common.',
        errorStack: [],
        apiError: 3,
      }),
      code: 'bigip_conflict',
      retryable: false,
      f5Code: '01020066',
      says: /HTTP 409: 01020066:3: The requested Certificate File/,
    },
    {
      scenario: 'a key that does not match the profile certificate',
      status: 400,
      body: json({
        apiError: 3,
        code: 400,
        errorStack: [],
        message: "01070317:3: profile /Common/X's key and certificate do not match",
      }),
      code: 'bigip_key_mismatch',
      retryable: false,
      f5Code: '01070317',
    },
    {
      scenario: 'a failed transaction commit',
      status: 400,
      body: json({
        code: 400,
        message: 'transaction failed:01070320:3: Snatpool mysnatpool is still referenced by a virtual server.',
        errorStack: [],
        apiError: 2,
      }),
      code: 'bigip_transaction_failed',
      retryable: false,
      f5Code: '01070320',
      apiError: 2,
    },
    {
      scenario: 'a failed commit caused by a key mismatch',
      status: 400,
      body: json({
        code: 400,
        message: "transaction failed:01070317:3: profile /Common/X's key and certificate do not match",
        apiError: 2,
      }),
      code: 'bigip_transaction_failed',
      retryable: false,
      f5Code: '01070317',
    },
    {
      scenario: 'a profile in use',
      status: 400,
      body: json({
        code: 400,
        message:
          '01070265:3: The ClientSSL Profile (/Common/p) cannot be deleted because it is in use by a virtual server profile (/Common/vs).',
        apiError: 3,
      }),
      code: 'bigip_in_use',
      retryable: false,
      f5Code: '01070265',
    },
    {
      scenario: 'a certificate file in use',
      status: 400,
      body: json({ code: 400, message: '01071349:3: File object by name (/Common/a.crt) is in use.', apiError: 3 }),
      code: 'bigip_in_use',
      retryable: false,
    },
    {
      scenario: 'a certificate referenced by a profile',
      status: 400,
      body: json({
        code: 400,
        message: '010713ab:3: Certificate /Common/a.crt is referenced by client-ssl profile /Common/p.',
        apiError: 3,
      }),
      code: 'bigip_in_use',
      retryable: false,
      f5Code: '010713ab',
    },
    {
      scenario: 'a reference to something missing (not "in use")',
      status: 400,
      body: json({
        code: 400,
        message: '01020036:3: The requested Certificate File (/Common/x.crt), referenced by profile, was not found.',
        apiError: 3,
      }),
      code: 'bigip_api',
      retryable: false,
    },
    {
      scenario: 'a 503',
      status: 503,
      body: Buffer.from('Service Unavailable'),
      code: 'bigip_busy',
      retryable: true,
      says: /HTTP 503: non-JSON body "Service Unavailable"/,
    },
    {
      scenario: 'an active asynchronous task',
      status: 400,
      body: json({ code: 400, message: 'there is an active asynchronous task executing', apiError: 1 }),
      code: 'bigip_busy',
      retryable: true,
    },
    {
      scenario: 'a restarting Configuration Utility',
      status: 401,
      body: Buffer.from('Configuration Utility restarting...'),
      code: 'bigip_busy',
      retryable: true,
    },
    {
      scenario: 'a 500',
      status: 500,
      body: json({ code: 500, message: 'internal error', apiError: 1 }),
      code: 'bigip_api',
      retryable: true,
    },
    {
      scenario: 'invalid JSON sent',
      status: 400,
      body: json({ code: 400, message: 'Found invalid JSON body in the request.', errorStack: [], apiError: 1 }),
      code: 'bigip_api',
      retryable: false,
    },
    {
      scenario: 'a 403',
      status: 403,
      body: json({ code: 403, message: 'Operation is not allowed on property /sys/file', apiError: 1 }),
      code: 'bigip_api',
      retryable: false,
    },
    {
      scenario: 'a redirect',
      status: 302,
      body: Buffer.alloc(0),
      code: 'bigip_api',
      retryable: false,
      says: /HTTP 302 redirect, not followed/,
    },
    {
      scenario: 'an upload error echoing the uploaded key',
      status: 400,
      body: Buffer.from(`bad chunk: ${KEY}`),
      code: 'bigip_api',
      retryable: false,
      quoteBody: false,
      says: /non-JSON body of \d+ bytes/,
    },
    {
      scenario: 'a device message that repeats the password and the token',
      status: 400,
      body: json({
        code: 400,
        message: `bad value ${PASSWORD} for token ${TOKEN} and ${encodeURIComponent(PASSWORD)}`,
        apiError: 1,
      }),
      code: 'bigip_api',
      retryable: false,
      says: /\[redacted\]/,
    },
    {
      scenario: 'a multi-line message',
      status: 400,
      body: json({ code: 400, message: 'line one\nline two\r\n\tline three', apiError: 1 }),
      code: 'bigip_api',
      retryable: false,
      says: /line one line two line three/,
    },
  ];

  it.each(cases)('$scenario → $code', (c) => {
    const err = responseError(ctx(c.quoteBody === undefined ? {} : { quoteBody: c.quoteBody }), c.status, c.body);
    expect(err).toBeInstanceOf(CoreError);
    expect(err.code).toBe(c.code);
    expect(err.retryable).toBe(c.retryable);
    expect(err.detail.status).toBe(c.status);
    expect(err.detail.request).toBe('POST /mgmt/tm/sys/crypto/key');
    if (c.f5Code !== undefined) expect(err.detail.f5Code).toBe(c.f5Code);
    if (c.apiError !== undefined) expect(err.detail.apiError).toBe(c.apiError);
    expect(err.message).toMatch(/^install key \/Common\/www\.key on BIG-IP bigip\.example:443 failed: /);
    if (c.says !== undefined) expect(err.message).toMatch(c.says);
    assertClean(err);
  });

  it('never quotes originalRequestBody', () => {
    const err = responseError(
      ctx(),
      401,
      json({
        code: 401,
        message: 'Authentication failed.',
        originalRequestBody: '{"username":"admin","secret-ish":"zzz"}',
      }),
    );
    expect(err.message).not.toContain('originalRequestBody');
    expect(err.message).not.toContain('secret-ish');
  });
});

describe('network failures → BigIpError', () => {
  const cases: Array<[string, BigIpErrorCode, boolean, RegExp]> = [
    ['ENOTFOUND', 'bigip_dns', false, /host name not found/],
    ['EAI_AGAIN', 'bigip_dns', true, /temporary DNS failure/],
    ['ECONNREFUSED', 'bigip_tcp', true, /connection refused/],
    ['EHOSTUNREACH', 'bigip_tcp', true, /host unreachable/],
    ['ENETUNREACH', 'bigip_tcp', true, /network unreachable/],
    ['ECONNRESET', 'bigip_tcp', true, /connection reset/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'bigip_tls', false, /TLS certificate not accepted/],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'bigip_tls', false, /TLS certificate not accepted/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'bigip_tls', false, /TLS certificate not accepted/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'bigip_tls', false, /TLS certificate not accepted/],
    ['CERT_HAS_EXPIRED', 'bigip_tls', false, /TLS certificate not accepted/],
    [
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      'bigip_tls',
      false,
      /TLS handshake failed: sslv3 alert handshake failure/,
    ],
    ['ETIMEDOUT', 'bigip_timeout', true, /no answer after 30000 ms/],
    ['HPE_INVALID_CONSTANT', 'bigip_api', false, /not a valid HTTP answer/],
  ];
  it.each(cases)('%s → %s', (errno, code, retryable, says) => {
    const cause = Object.assign(new Error(`something ${errno}`), { code: errno });
    const err = networkError(
      ctx({ action: 'read device info', request: 'GET /mgmt/shared/identified-devices/config/device-info' }),
      cause,
    );
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.detail).toEqual({
      status: null,
      f5Code: null,
      apiError: null,
      request: 'GET /mgmt/shared/identified-devices/config/device-info',
    });
    expect(err.message).toMatch(/^read device info on BIG-IP bigip\.example:443 failed: /);
    expect(err.message).toMatch(says);
    expect(err.cause).toBe(cause);
    assertClean(err);
  });

  it('reads the OpenSSL reason of an EPROTO handshake failure', () => {
    const cause = Object.assign(
      new Error(
        'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:354:',
      ),
      { code: 'EPROTO' },
    );
    const err = networkError(ctx(), cause);
    expect(err.code).toBe('bigip_tls');
    expect(err.message).toMatch(
      /TLS handshake failed: wrong version number \(is the management interface plain http\?\)/,
    );
  });
});

describe('error parts', () => {
  it.each([
    ['01070317:3: profile x', '01070317'],
    ['transaction failed:01070320:3: Snatpool', '01070320'],
    ['0107149e:3: something', '0107149e'],
    ['Authentication failed.', null],
    ['code 12345678 without severity', null],
  ])('f5Code of %j is %j', (message, code) => {
    expect(f5CodeOf(message)).toBe(code);
  });

  it.each([
    ['GET', '/mgmt/tm/sys/file/ssl-cert/~Common~a.crt', 'GET /mgmt/tm/sys/file/ssl-cert/~Common~a.crt'],
    [
      'PATCH',
      '/mgmt/tm/ltm/data-group/internal/~Common~dg?options=records%20add%20%7B%20tok%20%7B%20data%20tok.thumb%20%7D%20%7D',
      'PATCH /mgmt/tm/ltm/data-group/internal/~Common~dg?options',
    ],
    [
      'GET',
      '/mgmt/tm/ltm/virtual?$select=name,rules&expandSubcollections=true',
      'GET /mgmt/tm/ltm/virtual?$select&expandSubcollections',
    ],
    ['DELETE', `/mgmt/shared/authz/tokens/${TOKEN}`, 'DELETE /mgmt/shared/authz/tokens/…'],
  ])('request label of %s %s', (method, path, label) => {
    expect(requestLabel(method, path)).toBe(label);
  });

  it('parses error bodies leniently', () => {
    expect(parseErrorBody('{"message":"m","apiError":3}')).toEqual({ json: true, message: 'm', apiError: 3 });
    expect(parseErrorBody('[1]')).toEqual({ json: true, message: null, apiError: null });
    expect(parseErrorBody('<html>')).toEqual({ json: false, message: null, apiError: null });
  });

  it('classifies by status when there is no message', () => {
    expect(classifyResponse(502, null)).toEqual({ code: 'bigip_api', retryable: true });
    expect(classifyResponse(429, null)).toEqual({ code: 'bigip_busy', retryable: true });
    expect(classifyResponse(400, null)).toEqual({ code: 'bigip_api', retryable: false });
  });
});
