/**
 * Turns an iControl REST answer or a network failure into a {@link BigIpError}: a stable code saying what
 * failed, whether a retry can help, and the facts (status, F5 message code, apiError, request line). This is
 * the one place BIG-IP failures are classified (`reference/bigip-icontrol.md` §1.5, §7).
 *
 * Messages are one line for a person: what was being done, on which device, and the device's own message.
 * They never carry the password, a token, the Authorization header, or any body text the device echoes back
 * (a login 401 echoes `originalRequestBody`; an upload error can echo the uploaded bytes, i.e. a private key).
 */
import { CoreError } from '../errors.ts';
import { errnoCode, UNKNOWN_ERRNO } from '../net/errno-code.ts';
import { isTlsVerifyError, tlsHandshakeReason, tlsVerifyReason } from '../net/tls-failure.ts';
import type { BigIpError, BigIpErrorCode, BigIpErrorDetail } from '../ports/bigip-client.ts';

/** What a failed call was: for the message and `detail.request`. */
export interface BigIpRequestContext {
  /** What was being done, e.g. `install key /Common/www.key`. */
  action: string;
  /** `host[:port]` of the management interface. */
  host: string;
  /** Method and path, already without query values or secrets (see {@link requestLabel}). */
  request: string;
  /** Removes secrets from any text taken from the device or a library error. */
  redact: (text: string) => string;
  /** Whether a non-JSON body may be quoted at all (false for uploads, whose errors can echo the file). */
  quoteBody?: boolean;
  timeoutMs?: number;
}

const SNIPPET_MAX = 300;

const TCP_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by the device',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed by the device',
  EADDRNOTAVAIL: 'address not available',
};

/** `01070317:3: …` or `transaction failed:01070320:3: …` → the 8-hex-digit MCP message code. */
export function f5CodeOf(message: string | null): string | null {
  if (message === null) return null;
  return /(?:^|[^0-9A-Za-z])([0-9A-Fa-f]{8}):\d+:/.exec(message)?.[1] ?? null;
}

/**
 * `METHOD /path?key=value` → `METHOD /path?key`: query values (tmsh options, filters) are dropped, and the
 * token in an `authz/tokens/<token>` path is replaced, so the label can be logged and shown.
 */
export function requestLabel(method: string, pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  let path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  path = path.replace(/^(\/mgmt\/shared\/authz\/tokens\/)[^/]+/, '$1…');
  if (q === -1) return `${method} ${path}`;
  const keys = pathAndQuery
    .slice(q + 1)
    .split('&')
    .map((pair) => pair.split('=')[0] ?? '')
    .filter((k) => k !== '');
  return keys.length === 0 ? `${method} ${path}` : `${method} ${path}?${keys.join('&')}`;
}

/** A redactor removing each secret (as given, URL-encoded, and in Basic form) and any PEM private key. */
export function makeRedactor(secrets: () => Iterable<string>): (text: string) => string {
  return (text) => {
    let out = text.replace(
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
      '[private key]',
    );
    for (const secret of secrets()) {
      if (secret.length < 3) continue;
      for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
        out = out.split(form).join('[redacted]');
      }
    }
    return out;
  };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_MAX ? `${flat.slice(0, SNIPPET_MAX - 1)}…` : flat;
}

/** The `message` and `apiError` of an iControl error body; other fields (e.g. `originalRequestBody`) are ignored. */
export function parseErrorBody(body: Buffer | string): {
  json: boolean;
  message: string | null;
  apiError: number | null;
} {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { json: false, message: null, apiError: null };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { json: true, message: null, apiError: null };
  const o = parsed as Record<string, unknown>;
  const message = typeof o['message'] === 'string' ? o['message'] : null;
  const apiError = typeof o['apiError'] === 'number' && Number.isFinite(o['apiError']) ? o['apiError'] : null;
  return { json: true, message, apiError };
}

const BUSY = /active asynchronous task|Configuration Utility restarting|restjavad .*(?:restart|unavailable)/i;
const IN_USE = /\bin use\b|\bstill referenced\b|\bis referenced\b|\breferenced by\b/i;
const NOT_FOUND_TEXT = /\bwas not found\b|\bdoes not exist\b/i;

/** The code and retryability for an HTTP status and the device's message. */
export function classifyResponse(status: number, message: string | null): { code: BigIpErrorCode; retryable: boolean } {
  const text = message ?? '';
  // A restarting device answers even a login with this text; waiting helps, new credentials do not.
  if (status === 503 || status === 429 || BUSY.test(text)) return { code: 'bigip_busy', retryable: true };
  if (status === 401) return { code: 'bigip_auth', retryable: false };
  if (status === 404) return { code: 'bigip_not_found', retryable: false };
  if (status === 409) return { code: 'bigip_conflict', retryable: false };
  if (status === 400) {
    if (/^\s*transaction failed/i.test(text)) return { code: 'bigip_transaction_failed', retryable: false };
    if (f5CodeOf(text) === '01070317') return { code: 'bigip_key_mismatch', retryable: false };
    if (IN_USE.test(text) && !NOT_FOUND_TEXT.test(text)) return { code: 'bigip_in_use', retryable: false };
  }
  return { code: 'bigip_api', retryable: status >= 500 };
}

function detailOf(d: BigIpErrorDetail): Record<string, unknown> {
  return { status: d.status, f5Code: d.f5Code, apiError: d.apiError, request: d.request };
}

export function bigIpError(
  code: BigIpErrorCode,
  message: string,
  detail: BigIpErrorDetail,
  opts: { retryable?: boolean; cause?: unknown } = {},
): BigIpError {
  return new CoreError(code, message, { ...opts, detail: detailOf(detail) }) as BigIpError;
}

export function isBigIpError(err: unknown, code?: BigIpErrorCode): err is BigIpError {
  return err instanceof CoreError && err.code.startsWith('bigip_') && (code === undefined || err.code === code);
}

/** The same failure under another code (e.g. a refused commit becomes `bigip_transaction_failed`). */
export function recode(err: BigIpError, code: BigIpErrorCode, retryable = false): BigIpError {
  return new CoreError(code, err.message, { retryable, detail: err.detail, cause: err.cause }) as BigIpError;
}

function htmlTitle(text: string): string | null {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  return title === undefined ? null : oneLine(title);
}

/** An answer with a status outside 2xx. */
export function responseError(ctx: BigIpRequestContext, status: number, body: Buffer, truncated = false): BigIpError {
  const parsed = parseErrorBody(body);
  const message = parsed.message === null ? null : oneLine(ctx.redact(parsed.message));
  const f5Code = f5CodeOf(message);
  // A non-JSON body is still read for the device's busy text (e.g. "Configuration Utility restarting..."), never quoted.
  const { code, retryable } = classifyResponse(
    status,
    message ?? (parsed.json ? null : body.subarray(0, 4096).toString('utf8')),
  );
  const detail: BigIpErrorDetail = { status, f5Code, apiError: parsed.apiError, request: ctx.request };

  let said: string;
  if (message !== null && message !== '') said = message;
  else if (parsed.json || body.length === 0) said = body.length === 0 ? 'empty body' : 'no message';
  else {
    // Not JSON: an Apache error page, a proxy's text, or echoed upload bytes. Quote at most an HTML title.
    const text = body.toString('utf8');
    const title = htmlTitle(text);
    if (title !== null) said = `HTML page "${ctx.redact(title)}"`;
    else if (ctx.quoteBody === false || status === 401)
      said = `non-JSON body of ${body.length}${truncated ? '+' : ''} bytes`;
    else said = `non-JSON body ${JSON.stringify(oneLine(ctx.redact(text)))}`;
  }

  let what: string;
  if (status >= 300 && status < 400)
    what = `HTTP ${status} redirect, not followed (is the URL the management interface?)`;
  else if (code === 'bigip_auth') what = `credentials refused (HTTP 401): ${said}`;
  else what = `HTTP ${status}: ${said}`;
  return bigIpError(code, `${ctx.action} on BIG-IP ${ctx.host} failed: ${what}`, detail, { retryable });
}

/** A 2xx answer the client could not use (not JSON, too large, a field missing). */
export function unexpectedAnswer(ctx: BigIpRequestContext, status: number, why: string): BigIpError {
  return bigIpError(
    'bigip_api',
    `${ctx.action} on BIG-IP ${ctx.host} failed: unexpected answer (HTTP ${status}): ${why}`,
    {
      status,
      f5Code: null,
      apiError: null,
      request: ctx.request,
    },
  );
}

/** Which layer a network error belongs to, and the human reason. */
export function classifyNetworkError(
  err: unknown,
  timeoutMs?: number,
): { code: BigIpErrorCode; retryable: boolean; why: string } {
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOTFOUND') return { code: 'bigip_dns', retryable: false, why: 'host name not found (ENOTFOUND)' };
  if (code === 'EAI_AGAIN') return { code: 'bigip_dns', retryable: true, why: 'temporary DNS failure (EAI_AGAIN)' };
  if (code === 'ENODATA') return { code: 'bigip_dns', retryable: false, why: 'no address records (ENODATA)' };
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'ABORT_ERR') {
    const after = timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
    return { code: 'bigip_timeout', retryable: true, why: `no answer${after} (timed out)` };
  }
  const tcp = TCP_CODES[code];
  if (tcp !== undefined) return { code: 'bigip_tcp', retryable: true, why: `${tcp} (${code})` };
  if (isTlsVerifyError(code)) {
    return {
      code: 'bigip_tls',
      retryable: false,
      why: `TLS certificate not accepted: ${tlsVerifyReason(message)} (${code})`,
    };
  }
  const handshake = tlsHandshakeReason(code, message, 'management interface');
  if (handshake !== null) return { code: 'bigip_tls', retryable: false, why: `TLS handshake failed: ${handshake}` };
  if (code.startsWith('HPE_')) {
    return {
      code: 'bigip_api',
      retryable: false,
      why: `not a valid HTTP answer (${code}); is the URL the management interface?`,
    };
  }
  return { code: 'bigip_tcp', retryable: true, why: code === UNKNOWN_ERRNO ? message : `${message} (${code})` };
}

/** No answer arrived: DNS, TCP, TLS or a timeout. */
export function networkError(ctx: BigIpRequestContext, err: unknown): BigIpError {
  const { code, retryable, why } = classifyNetworkError(err, ctx.timeoutMs);
  const line = oneLine(ctx.redact(why));
  const detail: BigIpErrorDetail = { status: null, f5Code: null, apiError: null, request: ctx.request };
  return bigIpError(code, `${ctx.action} on BIG-IP ${ctx.host} failed: ${line}`, detail, { retryable, cause: err });
}
