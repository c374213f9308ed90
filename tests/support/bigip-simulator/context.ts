/**
 * What every route handler gets (the device core, the parsed request, the objects the write touched) and
 * what it returns, plus the route table types. Handlers are synchronous and throw {@link SimError}; the
 * pipeline (`server.ts`) and the transaction commit (`transactions.ts`) both run them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SimulatorState } from './state.ts';
import type { SimulatorStep } from './types.ts';

export interface SimConfig {
  username: string;
  password: string;
  tls: boolean;
  latencyMs: number;
  tokenTimeoutSeconds: number;
  transactionTimeoutSeconds: number;
  hostname: string;
  version: string;
  basicAuth: boolean;
  tokenAuth: boolean;
}

export interface SimCore {
  config: SimConfig;
  state: SimulatorState;
  startedAt: Date;
  now(): Date;
  /** restjavad's `restOperationId`: one per request. */
  nextOperationId(): number;
}

export interface OpContext {
  core: SimCore;
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The JSON body ({} when empty); routes with `rawBody` get {} and read `raw`. */
  body: Record<string, unknown>;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  /** Capture groups of the route pattern. */
  params: string[];
  /** `cert:/Common/x`, `key:…`, `profile:…` written by this request or transaction: checked afterwards. */
  touched: Set<string>;
  client: { address: string; token: string | null };
  inTransaction: boolean;
}

export interface Reply {
  status: number;
  json?: unknown;
  /** A non-JSON body (HTML, text); `json` wins when both are set. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  statusMessage?: string;
}

export interface RouteMethod {
  step: SimulatorStep | null;
  handle(ctx: OpContext): Reply;
  /** The body is not JSON (uploads). */
  rawBody?: boolean;
}

export interface RouteDef {
  pattern: RegExp;
  area: 'tm' | 'shared';
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', RouteMethod>>;
}

export function ok(json: unknown): Reply {
  return { status: 200, json };
}

/** DELETE answers 200 with an empty body. */
export function empty(): Reply {
  return { status: 200, text: '' };
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' ? value : undefined;
}
