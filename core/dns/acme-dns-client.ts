import { acmeDnsCname } from '../domain/dns-publisher.ts';
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';
import { queryWithin } from '../net/dns-resolver.ts';
import { errnoCode } from '../net/errno-code.ts';
import type { AcmeDnsAccount, AcmeDnsClient } from '../ports/acme-dns.ts';

export interface AcmeDnsClientOptions {
  /** Recursive resolvers ('ip' or 'ip:port') for the CNAME check; empty: the system's. */
  resolvers?: string[];
  /** One HTTP request or DNS lookup takes at most this; default 10000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** acme-dns's TXT values are DNS-01 digests: 43 characters of base64url. */
const TXT_VALUE = /^[A-Za-z0-9_-]{43}$/;

function failure(message: string, opts: { retryable?: boolean; cause?: unknown } = {}): CoreError {
  return new CoreError('acme_dns_error', message, opts);
}

async function post(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    throw failure(
      `could not reach acme-dns at ${url}: ${errnoCode(cause) === 'EUNKNOWN' ? (err as Error).message : errnoCode(cause)}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: reported below with the status
  }
  return { status: response.status, json: json ?? clip(text, 200) };
}

function errorOf(json: unknown): string {
  const e = (json as { error?: unknown } | null)?.error;
  return typeof e === 'string' ? e : typeof json === 'string' ? json : 'no reason given';
}

export function createAcmeDnsClient(opts: AcmeDnsClientOptions = {}): AcmeDnsClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const resolvers = opts.resolvers ?? [];

  return {
    async register(url) {
      const { status, json } = await post(url, '/register', {}, {}, timeoutMs);
      if (status !== 201 && status !== 200)
        throw failure(`acme-dns at ${url} refused to register an account: HTTP ${status} (${errorOf(json)})`, {
          retryable: status >= 500,
        });
      const a = json as Partial<Record<keyof AcmeDnsAccount, unknown>>;
      if (
        typeof a.username !== 'string' ||
        typeof a.password !== 'string' ||
        typeof a.subdomain !== 'string' ||
        typeof a.fulldomain !== 'string'
      ) {
        throw failure(`acme-dns at ${url} answered /register without username, password, subdomain and fulldomain`);
      }
      return { username: a.username, password: a.password, subdomain: a.subdomain, fulldomain: a.fulldomain };
    },

    async update(url, account, txt) {
      if (!TXT_VALUE.test(txt))
        throw new CoreError('input_invalid', 'an acme-dns TXT value is 43 characters of base64url');
      const { status, json } = await post(
        url,
        '/update',
        { subdomain: account.subdomain, txt },
        { 'X-Api-User': account.username, 'X-Api-Key': account.password },
        timeoutMs,
      );
      if (status === 200) return;
      if (status === 401)
        throw failure(
          `acme-dns at ${url} refused the account's credentials (HTTP 401, ${errorOf(json)}); register again with domain dns set`,
        );
      throw failure(`acme-dns at ${url} refused the update: HTTP ${status} (${errorOf(json)})`, {
        retryable: status >= 500,
      });
    },

    async checkDelegation(recordName, fulldomain) {
      const expected = fulldomain.replace(/\.$/, '').toLowerCase();
      const create = acmeDnsCname(recordName, fulldomain);
      let targets: string[];
      try {
        targets = await queryWithin(resolvers, timeoutMs, (r) => r.resolveCname(recordName));
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENODATA' || code === 'ENOTFOUND') {
          throw new CoreError('dns_delegation_missing', `${recordName} has no CNAME; create: ${create}`, {
            detail: { record: create },
          });
        }
        throw new CoreError('dns_delegation_missing', `could not look up the CNAME of ${recordName} (${code})`, {
          retryable: true,
          cause: err,
          detail: { record: create },
        });
      }
      const found = targets.map((t) => t.replace(/\.$/, '').toLowerCase());
      if (!found.includes(expected)) {
        throw new CoreError(
          'dns_delegation_missing',
          `${recordName} is a CNAME to ${found.join(', ')}, not to ${expected}; change it to: ${create}`,
          { detail: { record: create } },
        );
      }
    },
  };
}
