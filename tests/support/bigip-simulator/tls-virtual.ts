/**
 * A TLS listener playing one virtual server's client side: every handshake presents what the virtual server's
 * client-ssl profile holds *at that moment* (read live from the state), so a deploy's "what do clients see"
 * check meets a real handshake. With several client-ssl profiles the one whose `serverName` matches the SNI
 * answers, else the first without a server name (TMOS's SNI default). A profile's first certKeyChain entry is
 * served, its chain appended; an encrypted key is opened with the passphrase it was installed with.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readPrivateKey } from './pem-facts.ts';
import type { ProfileObject, SimulatorState } from './state.ts';

export interface TlsVirtualListener {
  server: net.Server;
  port: number;
}

function pickProfile(state: SimulatorState, vsPath: string, servername: string | null): ProfileObject | null {
  const vs = state.virtuals.get(vsPath);
  const profiles = (vs?.profiles ?? [])
    .map((p) => state.profiles.get(p))
    .filter((p): p is ProfileObject => p !== undefined);
  if (servername) {
    const match = profiles.find((p) => p.serverName?.toLowerCase() === servername.toLowerCase());
    if (match) return match;
  }
  return profiles.find((p) => p.serverName === undefined) ?? profiles[0] ?? null;
}

function contextOf(state: SimulatorState, profile: ProfileObject | null): tls.SecureContext | null {
  const entry = profile?.certKeyChain[0];
  if (!entry) return null;
  const cert = state.certs.get(entry.cert);
  const key = state.keys.get(entry.key);
  if (!cert || !key) return null;
  const chain = entry.chain === 'none' ? '' : (state.certs.get(entry.chain)?.pem ?? '');
  const privateKey = readPrivateKey(key.pem, key.passphrase ?? entry.passphrase);
  return tls.createSecureContext({
    cert: `${cert.pem.trim()}\n${chain}`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  });
}

/** Listens on `host` (port 0 = a free one); `stateOf` says whose configuration answers each connection. */
export function listenTlsVirtual(
  stateOf: () => SimulatorState,
  vsPath: string,
  host = '127.0.0.1',
): Promise<TlsVirtualListener> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    let context: tls.SecureContext | null = null;
    try {
      context = contextOf(stateOf(), pickProfile(stateOf(), vsPath, null));
    } catch {
      context = null;
    }
    if (!context) {
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      SNICallback: (servername, cb) => {
        try {
          cb(null, contextOf(stateOf(), pickProfile(stateOf(), vsPath, servername)) ?? context);
        } catch (err) {
          cb(err as Error, undefined);
        }
      },
    });
    secure.on('error', () => secure.destroy());
    secure.on('secure', () => secure.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as net.AddressInfo).port });
    });
  });
}
