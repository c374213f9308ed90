/**
 * Test fixture: an HTTPS reverse proxy in front of a running Pebble 2.4 that adds ARI (RFC 9773), which
 * Pebble 2.4 lacks. It
 *   - forwards every request to Pebble unchanged, *including the Host header*: Pebble builds every URL it
 *     hands out (directory entries, Location, authorizations, finalize, certificate) from the request's Host,
 *     and checks a JWS `url` against it, so all later traffic stays on the proxy and signatures stay valid
 *     without rewriting anything;
 *   - adds `renewalInfo: https://<proxy>/renewal-info` to the directory JSON;
 *   - answers `GET /renewal-info/<certId>` from what the test set (`setWindow`, `setRetryAfter`);
 *   - records the paths it sees and the decoded payload of every newOrder (to see `replaces`), and can answer
 *     the next newOrder that carries `replaces` with 409 `alreadyReplaced`.
 *
 * A CertID without a window (and no '*' window) gets a 404, as Boulder answers for a certificate it does not
 * know: a CertID says nothing about the certificate's validity, so there is no sensible default window.
 *
 * The proxy serves Pebble's own HTTPS certificate (`<pebble.dir>/cert.pem`, for 127.0.0.1, signed by
 * `pebble.caFile`), so a client that trusts Pebble trusts the proxy too.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PebbleHandle } from './pebble.ts';

export interface AriWindow {
  start: Date;
  end: Date;
  explanationUrl?: string;
}

export interface SeenOrder {
  identifiers: { type: string; value: string }[];
  replaces?: string;
  /** Status the client got: 409 when the proxy refused it, otherwise Pebble's. */
  status: number;
}

export interface AriProxy {
  /** https://127.0.0.1:<proxy port>/dir */
  directoryUrl: string;
  /** https://127.0.0.1:<proxy port>/renewal-info */
  renewalInfoUrl: string;
  /** PEM file to trust (Pebble's test CA, which also signed the proxy's certificate). */
  caFile: string;
  /**
   * The window served for `certId` ('*': for every CertID without its own). 'malformed' serves end before
   * start; null removes it (→ 404).
   */
  setWindow(certId: string, window: AriWindow | 'malformed' | null): void;
  /** Retry-After on renewal-info answers: seconds, a raw header value (e.g. an HTTP-date), or null for none. */
  setRetryAfter(value: number | string | null): void;
  /** Answer renewal-info with this HTTP status and a problem document (429 → rateLimited); null to stop. */
  failRenewalInfo(status: number | null): void;
  /** The next newOrder that carries `replaces` gets 409 `alreadyReplaced` (not forwarded to Pebble). */
  rejectNextReplaces(): void;
  /** Path (with query) of every request, in order. */
  readonly requests: string[];
  readonly orders: SeenOrder[];
  close(): Promise<void>;
}

const RENEWAL_INFO_PATH = '/renewal-info';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The payload of a flattened JWS (RFC 7515 §7.2.2) as JSON; null when unreadable. */
function jwsPayload(body: Buffer): Record<string, unknown> | null {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: string };
    if (typeof jws.payload !== 'string' || jws.payload === '') return null;
    return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': data.length, ...headers }).end(data);
}

export async function startAriProxy(pebble: PebbleHandle): Promise<AriProxy> {
  const upstream = new URL(pebble.directoryUrl);
  const caFile = pebble.caFile;
  const agent = new https.Agent({ ca: readFileSync(caFile, 'utf8'), keepAlive: true });
  const windows = new Map<string, AriWindow | 'malformed'>();
  let retryAfter: string | null = null;
  let failStatus: number | null = null;
  let rejectReplaces = false;
  let newOrderPath = '/order-plz';
  const requests: string[] = [];
  const orders: SeenOrder[] = [];

  function renewalInfo(res: ServerResponse, certId: string): void {
    const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': retryAfter };
    if (failStatus !== null) {
      const type = failStatus === 429 ? 'rateLimited' : failStatus >= 500 ? 'serverInternal' : 'malformed';
      sendJson(
        res,
        failStatus,
        { type: `urn:ietf:params:acme:error:${type}`, detail: 'injected by the ARI proxy', status: failStatus },
        headers,
      );
      return;
    }
    const window = windows.get(certId) ?? windows.get('*');
    if (!window) {
      sendJson(
        res,
        404,
        { type: 'urn:ietf:params:acme:error:malformed', detail: `no renewal information for ${certId}`, status: 404 },
        headers,
      );
      return;
    }
    const now = Date.now();
    const body =
      window === 'malformed'
        ? {
            suggestedWindow: {
              start: new Date(now + 2 * 86_400_000).toISOString(),
              end: new Date(now + 86_400_000).toISOString(),
            },
          }
        : {
            suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
            ...(window.explanationUrl ? { explanationURL: window.explanationUrl } : {}),
          };
    sendJson(res, 200, body, headers);
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, onStatus?: (status: number) => void): void {
    const path = req.url ?? '/';
    const isDirectory = req.method === 'GET' && path === upstream.pathname;
    const out = https.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, agent },
      (upstreamRes) => {
        const status = upstreamRes.statusCode ?? 502;
        onStatus?.(status);
        if (!isDirectory || status !== 200) {
          res.writeHead(status, upstreamRes.headers);
          upstreamRes.pipe(res);
          return;
        }
        readBody(upstreamRes)
          .then((raw) => {
            const directory = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
            if (typeof directory.newOrder === 'string') newOrderPath = new URL(directory.newOrder).pathname;
            directory.renewalInfo = `https://${req.headers.host}${RENEWAL_INFO_PATH}`;
            const data = Buffer.from(JSON.stringify(directory));
            res.writeHead(status, { ...upstreamRes.headers, 'content-length': String(data.length) }).end(data);
          })
          .catch((err: Error) => res.destroy(err));
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent)
        sendJson(res, 502, { type: 'about:blank', detail: `ARI proxy: ${err.message}`, status: 502 });
      else res.destroy(err);
    });
    out.end(body);
  }

  const server = https.createServer(
    { cert: readFileSync(join(pebble.dir, 'cert.pem')), key: readFileSync(join(pebble.dir, 'key.pem')) },
    (req, res) => {
      readBody(req).then(
        (body) => {
          const path = req.url ?? '/';
          requests.push(path);
          if (req.method === 'GET' && path.startsWith(`${RENEWAL_INFO_PATH}/`)) {
            renewalInfo(res, path.slice(RENEWAL_INFO_PATH.length + 1));
            return;
          }
          if (req.method === 'POST' && path === newOrderPath) {
            const payload = jwsPayload(body) ?? {};
            const seen: SeenOrder = {
              identifiers: Array.isArray(payload.identifiers) ? (payload.identifiers as SeenOrder['identifiers']) : [],
              ...(typeof payload.replaces === 'string' ? { replaces: payload.replaces } : {}),
              status: 0,
            };
            orders.push(seen);
            if (rejectReplaces && seen.replaces !== undefined) {
              rejectReplaces = false;
              seen.status = 409;
              sendJson(res, 409, {
                type: 'urn:ietf:params:acme:error:alreadyReplaced',
                detail: `certificate ${seen.replaces} has already been replaced`,
                status: 409,
              });
              return;
            }
            forward(req, res, body, (status) => {
              seen.status = status;
            });
            return;
          }
          forward(req, res, body);
        },
        (err: Error) => res.destroy(err),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    directoryUrl: `${origin}${upstream.pathname}`,
    renewalInfoUrl: `${origin}${RENEWAL_INFO_PATH}`,
    caFile,
    setWindow(certId, window) {
      if (window === null) windows.delete(certId);
      else windows.set(certId, window);
    },
    setRetryAfter(value) {
      retryAfter = value === null ? null : String(value);
    },
    failRenewalInfo(status) {
      failStatus = status;
    },
    rejectNextReplaces() {
      rejectReplaces = true;
    },
    requests,
    orders,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
