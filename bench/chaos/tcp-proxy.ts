/**
 * A TCP proxy that can be switched off, to make a server unreachable without stopping it (a CA outage with
 * the CA's state intact). Paused, it resets every connection in flight and every new one at once (clients
 * see ECONNRESET, and the proxy counts how often they tried); resumed, it forwards again. TLS passes through
 * untouched, and Pebble builds its URLs from the Host header, so every URL a client learns keeps pointing at
 * the proxy.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Connections reset at once while paused (how often clients tried). */
  refusedWhilePaused(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let paused = false;
  let attemptsWhilePaused = 0;

  const handle = (client: Socket) => {
    if (paused) {
      attemptsWhilePaused++;
      client.destroy();
      return;
    }
    const upstream = createConnection(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port: boundPort,
    async pause() {
      paused = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async resume() {
      paused = false;
    },
    refusedWhilePaused: () => attemptsWhilePaused,
    async close() {
      paused = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
