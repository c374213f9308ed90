/**
 * Free ports for test servers, so two test runs (or a developer's service) can share a machine.
 *
 * A server in this process listens on port 0 and reads its address; that has no race. A child process
 * (the real CLI) or Pebble must be told a number instead: pick one here, and because something else can
 * bind it before the child does, start the child through `retryOnPortClash`.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

/** A TCP port free on 127.0.0.1 at the moment of asking (the kernel's pick for port 0). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.unref();
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, '127.0.0.1', () => {
      sock.close(() => resolve(true));
    });
  });
}

/** A port free for both TCP and UDP on 127.0.0.1 (for a DNS server). */
export async function freeTcpUdpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
  throw new Error('could not find a port free for both TCP and UDP');
}

/** True when a child's output or an error says its port was taken. */
export function saysAddressInUse(text: string): boolean {
  return /EADDRINUSE|address already in use/i.test(text);
}

/**
 * Runs `start()` again (up to `attempts` times) when it fails because a port it was given was taken in the
 * meantime (its error message says EADDRINUSE); `start` must pick its ports afresh on each call. Any other
 * failure is thrown as is.
 */
export async function retryWhenAddressInUse<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await start();
    } catch (err) {
      last = err;
      if (!saysAddressInUse((err as Error).message ?? String(err))) throw err;
    }
  }
  throw last;
}

/** `retryWhenAddressInUse` for a start that takes one port: each attempt gets a freshly picked free port. */
export function retryOnPortClash<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  return retryWhenAddressInUse(async () => start(await freeTcpPort()), attempts);
}
