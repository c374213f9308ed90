/**
 * The wire under the iControl client: one keep-alive agent per client (holding the trusted CA and the TLS
 * verification choice), a deadline per request, capped response bodies, and no redirects (node:http follows
 * none, so a 3xx simply comes back as an answer). It knows nothing about authentication or error meaning.
 */
import http from 'node:http';
import https from 'node:https';
import { managementUrlProblem } from '../domain/device.ts';
import { CoreError } from '../errors.ts';
import type { BigIpConnection } from '../ports/bigip-client.ts';
import { readCappedResponse } from '../net/capped-response.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Bodies past this are not read; only collection listings need more (they pass their own cap). */
export const DEFAULT_BODY_CAP = 4 * 1024 * 1024;

export interface WireRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. `/mgmt/tm/sys/config`. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
  cap?: number | undefined;
}

export type WireOutcome = { status: number; body: Buffer; truncated: boolean } | { error: unknown };

export interface Transport {
  /** `host[:port]`, for messages. */
  readonly host: string;
  readonly timeoutMs: number;
  send(req: WireRequest): Promise<WireOutcome>;
  /** Closes pooled connections. */
  destroy(): void;
}

/** The management URL the client was built with (the device rule; a stored URL that breaks it is config). */
export function parseManagementUrl(url: string): URL {
  const problem = managementUrlProblem(url);
  if (problem !== null) throw new CoreError('config_invalid', `the BIG-IP management URL ${problem}`);
  return new URL(url);
}

export function createTransport(conn: Pick<BigIpConnection, 'url' | 'caPem' | 'insecure' | 'timeoutMs'>): Transport {
  const base = parseManagementUrl(conn.url);
  const timeoutMs = conn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CoreError('config_invalid', `BIG-IP timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const secure = base.protocol === 'https:';
  const hostname = base.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = base.port === '' ? (secure ? 443 : 80) : Number(base.port);
  const ca = conn.caPem !== undefined && conn.caPem.trim() !== '' ? conn.caPem : undefined;
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ...(ca === undefined ? {} : { ca }),
        rejectUnauthorized: conn.insecure !== true,
      })
    : new http.Agent({ keepAlive: true });

  function attempt(req: WireRequest): Promise<WireOutcome & { stale: boolean }> {
    return new Promise((resolve) => {
      let settled = false;
      let answered = false;
      const finish = (outcome: WireOutcome, destroy: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (destroy) request.destroy();
        resolve({
          ...outcome,
          stale: 'error' in outcome && request.reusedSocket && !answered && isStaleSocketError(outcome.error),
        });
      };
      const headers: Record<string, string> = { Host: base.host, 'User-Agent': 'bigip-acme', ...req.headers };
      if (req.body !== undefined) headers['Content-Length'] = String(req.body.length);
      const options: https.RequestOptions = { hostname, port, path: req.path, method: req.method, headers, agent };
      const request = secure ? https.request(options) : http.request(options);
      const timer = setTimeout(
        () =>
          finish({ error: Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }) }, true),
        timeoutMs,
      );
      request.on('error', (error) => finish({ error }, true));
      request.on('response', (res) => {
        answered = true;
        readCappedResponse(res, req.cap ?? DEFAULT_BODY_CAP, (outcome) => {
          // A truncated or broken response leaves unread bytes on the socket: it must not go back to the pool.
          finish(outcome, 'error' in outcome || outcome.truncated);
        });
      });
      request.end(req.body);
    });
  }

  return {
    host: base.host,
    timeoutMs,
    async send(req) {
      // A pooled connection the device closed while idle fails before any answer: send once more, afresh.
      const first = await attempt(req);
      const { stale, ...outcome } = first.stale ? await attempt(req) : first;
      return outcome;
    },
    destroy() {
      agent.destroy();
    },
  };
}

function isStaleSocketError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
