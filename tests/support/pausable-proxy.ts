/**
 * Test fixture: a raw TCP proxy in front of a server (Pebble's ACME port) that can be taken down and
 * brought back, to play a CA outage. TLS passes through untouched, so the client still talks to Pebble's own
 * certificate, and Pebble builds every URL it hands out from the Host header (the proxy's address), so all
 * later requests come back through the proxy too.
 *
 * While down, every connection — open ones included — is closed at once (the client sees ECONNRESET), as
 * when a CA's load balancer drops its pool; `up()` accepts again.
 */
import net from 'node:net';

export interface PausableProxy {
  /** 127.0.0.1:<port> of the proxy. */
  host: string;
  port: number;
  readonly isDown: boolean;
  /** Connections accepted while up (each passes to the target). */
  readonly accepted: number;
  /** Connections refused while down. */
  readonly refused: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startPausableProxy(target: { host: string; port: number }): Promise<PausableProxy> {
  let isDown = false;
  let accepted = 0;
  let refused = 0;
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    if (isDown) {
      refused++;
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    get isDown() {
      return isDown;
    },
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    down() {
      isDown = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    up() {
      isDown = false;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
