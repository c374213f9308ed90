/**
 * The last step of every deploy: which virtual servers present a bound client-ssl profile, and a real TLS
 * handshake with each one's address (SNI when the profile has a server name) that must show the new serial.
 */
import { sameSerial, virtualTargets } from '../domain/served-certificate.ts';
import { asCoreError } from '../errors.ts';
import type { BigIpClient } from '../ports/bigip-client.ts';
import type { ServedCertificateProbe } from '../ports/served-certificate-probe.ts';

export interface ServedCheck {
  /** Profiles a handshake showed serving the new serial. */
  verified: { profile: string; virtual: string; address: string }[];
  /** One sentence per handshake that failed or showed another serial. */
  problems: string[];
  /** Virtual servers using a bound profile whose destination is no address to connect to. */
  skipped: string[];
}

export async function checkServed(
  client: BigIpClient,
  profilePaths: string[],
  serial: string,
  probe: ServedCertificateProbe,
  timeoutMs: number,
): Promise<ServedCheck> {
  const virtuals = await client.listVirtuals();
  const profiles = [];
  for (const fullPath of profilePaths) {
    const profile = await client.getClientSslProfile(fullPath);
    profiles.push({ fullPath, serverName: profile?.serverName ?? null });
  }
  const { targets, skipped } = virtualTargets(
    virtuals.map((v) => ({ fullPath: v.fullPath, destination: v.destination, profiles: v.profiles ?? [] })),
    profiles,
  );
  const result: ServedCheck = { verified: [], problems: [], skipped };
  for (const t of targets) {
    const address = `${t.host}:${t.port}${t.servername ? ` (SNI ${t.servername})` : ''}`;
    try {
      const served = await probe({ host: t.host, port: t.port, servername: t.servername, timeoutMs });
      if (sameSerial(served.serial, serial)) result.verified.push({ profile: t.profile, virtual: t.virtual, address });
      else
        result.problems.push(
          `${t.virtual} at ${address} presents serial ${served.serial.toLowerCase()}, not the deployed ${serial}`,
        );
    } catch (err) {
      result.problems.push(`${t.virtual}: ${asCoreError(err).message}`);
    }
  }
  return result;
}
