/**
 * Small network helpers for the fault suite: free ports, readiness polling, and raw HTTP/1.1 over node:net so
 * a request line reaches the server byte for byte (no client-side normalisation of `..` or `%2e%2e`).
 */
import { type RawResponse, rawRequest } from '../../tests/support/raw-http.ts';

export type { RawResponse };

/** The tests' own free-port helper: one definition for the suite and the tests. */
import { freeTcpPort } from '../../tests/support/free-port.ts';

export const freePort = freeTcpPort;

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RawRequest {
  method: string;
  /** Sent exactly as given on the request line. */
  target: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/**
 * One raw HTTP/1.1 request (tests/support/raw-http.ts); a connection refused, reset or timed out is status 0
 * instead of an exception, since under fault injection that is an outcome to count, not a harness error.
 */
export function rawHttp(port: number, req: RawRequest): Promise<RawResponse> {
  return rawRequest(port, req.method, req.target, {
    headers: { host: req.host ?? `127.0.0.1:${port}`, ...req.headers },
    ...(req.body !== undefined ? { body: req.body } : {}),
    timeoutMs: req.timeoutMs ?? 5_000,
  }).catch((err: Error) => ({ status: 0, headers: {}, body: err.message }));
}

/** Polls `GET path` until it answers `status` (default 200) or the time is up. */
export async function waitForHttp(port: number, path: string, timeoutMs: number, status = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await rawHttp(port, { method: 'GET', target: path, timeoutMs: 1_000 });
    if (res.status === status) return true;
    await sleep(100);
  }
  return false;
}
