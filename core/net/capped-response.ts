import type { IncomingMessage } from 'node:http';

export type CappedResponse =
  | { status: number; location?: string; body: Buffer; truncated: boolean }
  | { error: unknown };

/**
 * Reads a response's status, Location and at most `cap` bytes of body, then reports once: what the other side
 * sends is untrusted and may be unbounded, so nothing past the cap is buffered. A connection closed
 * mid-response is an error, not a short body.
 */
export function readCappedResponse(res: IncomingMessage, cap: number, report: (outcome: CappedResponse) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = (truncated: boolean): void => {
    const location = res.headers.location;
    report({
      status: res.statusCode ?? 0,
      ...(location === undefined ? {} : { location }),
      body: Buffer.concat(chunks),
      truncated,
    });
  };
  res.on('data', (chunk: Buffer) => {
    const take = chunk.subarray(0, cap - size);
    chunks.push(take);
    size += take.length;
    if (size >= cap) done(true);
  });
  res.on('end', () => done(false));
  res.on('error', (error) => report({ error }));
  res.on('close', () => {
    if (!res.complete) report({ error: Object.assign(new Error('connection closed mid-response'), { code: 'EPIPE' }) });
  });
}
