/**
 * The request pipeline of the management interface: read the body, wait `latencyMs`, authenticate, queue
 * writes that carry `X-F5-REST-Coordination-Id`, parse JSON, fire armed failures, run the route (writes all or
 * nothing), render F5-shaped errors, and log every request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, type TokenStore } from './auth.ts';
import type { OpContext, Reply, SimCore } from './context.ts';
import { atomically, type Dispatcher, normalizePathname, type RouteMatch } from './dispatch.ts';
import { type ErrorShape, INVALID_JSON, SimError, sharedError, tmError } from './errors.ts';
import type { Failures } from './failures.ts';
import { notAllowedInTransaction, type QueuedCommand, TRANSACTION_PATH, type Transactions } from './transactions.ts';
import type { SimulatorRequest } from './types.ts';

const LOGIN_PATH = '/mgmt/shared/authn/login';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface PipelineDeps {
  core: SimCore;
  tokens: TokenStore;
  failures: Failures;
  dispatcher: Dispatcher;
  transactions: () => Transactions;
  requests: SimulatorRequest[];
}

function clientAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

function parseJson(raw: Buffer, shape: ErrorShape): Record<string, unknown> {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw shape === 'tm' ? tmError(400, INVALID_JSON, 1) : sharedError(400, INVALID_JSON);
  }
  return value as Record<string, unknown>;
}

function notRegistered(pathname: string): SimError {
  return sharedError(
    404,
    `URI path ${pathname} not registered.  Please verify URI is supported and wait for /available suffix to be responsive.`,
  );
}

/** A context for running a route outside an HTTP request (a queued transaction command). */
export function commandContext(core: SimCore, match: RouteMatch, cmd: QueuedCommand, touched: Set<string>): OpContext {
  const url = new URL(cmd.path, 'http://localhost');
  return {
    core,
    method: cmd.method,
    pathname: normalizePathname(url.pathname),
    query: url.searchParams,
    body: cmd.body ?? {},
    raw: Buffer.from(cmd.body === undefined ? '' : JSON.stringify(cmd.body)),
    headers: {},
    params: match.params,
    touched,
    client: { address: '127.0.0.1', token: null },
    inTransaction: true,
  };
}

export function createPipeline(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { core, tokens, failures, dispatcher, requests } = deps;

  function render(err: unknown, area: ErrorShape, address: string): Reply {
    if (!(err instanceof SimError)) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        status: 500,
        json: { code: 500, message: `Internal simulator error: ${message}`, errorStack: [], apiError: 1 },
      };
    }
    const statusMessage = err.status === 401 ? 'F5 Authorization Required' : undefined;
    const base = {
      status: err.status,
      ...(statusMessage ? { statusMessage } : {}),
      ...(err.opts.headers ? { headers: err.opts.headers } : {}),
    };
    if (err.opts.html !== undefined)
      return { ...base, text: err.opts.html, contentType: 'text/html; charset=iso-8859-1' };
    const shape = err.opts.shape ?? area;
    const json =
      shape === 'tm'
        ? { code: err.status, message: err.message, errorStack: [], apiError: err.opts.apiError ?? 3 }
        : {
            code: err.status,
            message: err.message,
            ...err.opts.extra,
            referer: address,
            restOperationId: core.nextOperationId(),
            kind: ':resterrorresponse',
          };
    return { ...base, json };
  }

  function process(req: IncomingMessage, raw: Buffer, entry: SimulatorRequest, address: string): Reply {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = normalizePathname(url.pathname);
    const pathWithQuery = `${pathname}${url.search}`;
    const match = dispatcher.resolve(method, pathname);
    entry.step = match?.method?.step ?? null;

    if (!(method === 'POST' && pathname === LOGIN_PATH)) {
      entry.auth = authenticate(core, tokens, req.headers, pathname, address).kind;
    }

    const coordination = req.headers['x-f5-rest-coordination-id'];
    if (typeof coordination === 'string' && coordination !== '' && pathname.startsWith('/mgmt/tm/')) {
      entry.transaction = coordination;
      if (method === 'GET' || pathname === TRANSACTION_PATH || pathname.startsWith(`${TRANSACTION_PATH}/`)) {
        throw notAllowedInTransaction(coordination, method, pathWithQuery);
      }
      const body = method === 'DELETE' && raw.length === 0 ? undefined : parseJson(raw, 'tm');
      return deps.transactions().enqueue(coordination, method, pathWithQuery, body);
    }

    if (!match) throw notRegistered(pathname);
    const route = match.method;
    if (!route) throw tmError(405, `${method} is not supported on ${pathname}.`, 1);
    const area = match.def.area;
    const body = route.rawBody || method === 'GET' || method === 'DELETE' ? {} : parseJson(raw, area);

    const failure = failures.take(route.step, { method, path: pathWithQuery });
    const failureError = () =>
      area === 'tm' ? tmError(failure!.status, failure!.message) : sharedError(failure!.status, failure!.message);
    if (failure && !failure.afterApply) throw failureError();

    const run = (touched: Set<string>): Reply =>
      route.handle({
        core,
        method,
        pathname,
        query: url.searchParams,
        body,
        raw,
        headers: req.headers,
        params: match.params,
        touched,
        client: {
          address,
          token: typeof req.headers['x-f5-auth-token'] === 'string' ? req.headers['x-f5-auth-token'] : null,
        },
        inTransaction: false,
      });
    const isWrite = method !== 'GET' && area === 'tm' && !pathname.startsWith(TRANSACTION_PATH);
    const reply = isWrite ? atomically(core.state, run) : run(new Set());
    if (failure) throw failureError();
    return reply;
  }

  function send(res: ServerResponse, reply: Reply): void {
    const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
    res.statusCode = reply.status;
    if (reply.statusMessage) res.statusMessage = reply.statusMessage;
    if (reply.json !== undefined) res.setHeader('Content-Type', 'application/json; charset=UTF-8');
    else if (body !== '') res.setHeader('Content-Type', reply.contentType ?? 'text/plain; charset=UTF-8');
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }

  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.statusCode = 413;
        res.end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      const raw = Buffer.concat(chunks);
      const address = clientAddress(req);
      const entry: SimulatorRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: req.url ?? '/',
        step: null,
        status: 0,
        transaction: null,
        auth: 'none',
        bytes: raw.length,
      };
      const answer = () => {
        let reply: Reply;
        try {
          reply = process(req, raw, entry, address);
        } catch (err) {
          reply = render(err, (req.url ?? '').startsWith('/mgmt/shared') ? 'shared' : 'tm', address);
        }
        entry.status = reply.status;
        requests.push(entry);
        if (!res.destroyed) send(res, reply);
      };
      if (core.config.latencyMs > 0) setTimeout(answer, core.config.latencyMs);
      else answer();
    });
  };
}
