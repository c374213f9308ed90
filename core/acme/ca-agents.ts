import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

/** The axios options that send one request through a kept-alive connection to its origin. */
export type AgentOption = { httpAgent: http.Agent } | { httpsAgent: https.Agent };

/**
 * One keep-alive agent per CA origin (in practice: the directory's). Without it every nonce and every signed
 * request may open a new TCP and TLS connection. An idle connection is closed after the ACME timeout, so a
 * kept socket never outlives the bound the operator set (ACME_TIMEOUT_SECONDS).
 */
export function caAgents(opts: { timeoutMs: number; caPem?: string | undefined }): {
  forUrl(url: string): AgentOption;
} {
  // One secure context for every connection: passing `ca` to the agent would rebuild the trust store
  // (~150 roots, ~16 ms of CPU) on each new connection.
  const secureContext = opts.caPem ? tls.createSecureContext({ ca: [...tls.rootCertificates, opts.caPem] }) : undefined;
  const agents = new Map<string, AgentOption>();
  const common = { keepAlive: true, timeout: opts.timeoutMs, scheduling: 'lifo' as const };
  return {
    forUrl(url) {
      const { origin, protocol } = new URL(url);
      let agent = agents.get(origin);
      if (!agent) {
        agent =
          protocol === 'http:'
            ? { httpAgent: new http.Agent(common) }
            : { httpsAgent: new https.Agent({ ...common, ...(secureContext ? { secureContext } : {}) }) };
        agents.set(origin, agent);
      }
      return agent;
    },
  };
}

/**
 * A kept-alive connection the CA closed while it sat idle fails the next request on it with ECONNRESET (the
 * `reusedSocket` case in Node's http docs, which advise sending again). A signed request resent this way
 * carries the same nonce: if the CA did see it, the resend gets badNonce and nothing happens twice.
 */
export function isStaleKeptAliveSocket(err: unknown): boolean {
  const e = err as { code?: unknown; request?: { reusedSocket?: unknown } } | null;
  return e?.code === 'ECONNRESET' && e.request?.reusedSocket === true;
}
