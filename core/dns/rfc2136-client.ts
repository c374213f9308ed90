import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { normalizeZone, parseDnsServer, type Rfc2136Settings } from '../domain/dns-publisher.ts';
import { CoreError, runCommand } from '../errors.ts';
import type { DnsUpdateClient } from '../ports/dns-update.ts';
import { signMessage, type TsigKey, tsigErrorName, verifyResponse } from './tsig.ts';
import { buildQuery, buildTxtUpdate, type TxtChange } from './update-message.ts';

export interface Rfc2136ClientOptions {
  /** How long one exchange waits for the answer; default 5000 ms. */
  timeoutMs?: number;
  /** Seconds since the epoch, for Time Signed; injected by tests. Default: the system clock. */
  nowSeconds?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** UDP answers larger than this are cut; updates and their answers are far smaller. */
const MAX_UDP_ANSWER = 4096;

const fixHint = (name: string) => runCommand('fix the settings with', ['domain', 'dns', 'set', name]);

/** Sends one message over UDP and returns the answer with the same ID from that server. */
async function exchange(server: string, message: Buffer, timeoutMs: number): Promise<Buffer> {
  const { host, port } = parseDnsServer(server);
  let address: string;
  try {
    address = net.isIP(host) ? host : (await lookup(host)).address;
  } catch (err) {
    throw new CoreError('dns_update_failed', `could not resolve the DNS server ${host}`, {
      retryable: true,
      cause: err,
    });
  }
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  const id = message.readUInt16BE(0);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CoreError('dns_update_failed', `no answer from the DNS server ${server} within ${timeoutMs} ms`, {
              retryable: true,
            }),
          ),
        timeoutMs,
      );
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(
          new CoreError('dns_update_failed', `could not reach the DNS server ${server}: ${err.message}`, {
            retryable: true,
            cause: err,
          }),
        );
      });
      socket.on('message', (answer, from) => {
        if (from.address !== address || from.port !== port || answer.length < 12 || answer.readUInt16BE(0) !== id)
          return; // not the answer to this question
        clearTimeout(timer);
        resolve(answer.subarray(0, MAX_UDP_ANSWER));
      });
      socket.send(message, port, address);
    });
  } finally {
    socket.close();
  }
}

/** dns-packet decodes the RCODE's name (`NOERROR`, `REFUSED`, …); its type declarations leave it out. */
type Decoded = dnsPacket.DecodedPacket & { rcode: string };

function decode(answer: Buffer, server: string): Decoded {
  try {
    return dnsPacket.decode(answer) as Decoded;
  } catch (err) {
    throw new CoreError('dns_update_failed', `the DNS server ${server} sent an answer that does not parse`, {
      retryable: true,
      cause: err,
    });
  }
}

/** The cause of an update's refusal, in words that say what to change. */
function refusal(rcode: string, ctx: { settings: Rfc2136Settings; zone: string; name: string }): CoreError {
  const { settings, zone, name } = ctx;
  const where = `${settings.server} (zone ${zone})`;
  const domain = name.replace(/^_acme-challenge\./, '');
  switch (rcode) {
    case 'NOTAUTH':
      return new CoreError(
        'dns_update_refused',
        `${where} answered NOTAUTH: it is not the primary server for ${zone}`,
        {
          hint: fixHint(domain),
          detail: { rcode },
        },
      );
    case 'REFUSED':
      return new CoreError(
        'dns_update_refused',
        `${where} answered REFUSED: key ${settings.keyName} may not update the TXT records of ${name} (check allow-update or update-policy)`,
        { hint: fixHint(domain), detail: { rcode } },
      );
    case 'NOTZONE':
      return new CoreError('dns_update_refused', `${where} answered NOTZONE: ${name} is not in zone ${zone}`, {
        hint: fixHint(domain),
        detail: { rcode },
      });
    case 'SERVFAIL':
      return new CoreError('dns_update_failed', `${where} answered SERVFAIL to the update of ${name}`, {
        retryable: true,
        detail: { rcode },
      });
    default:
      return new CoreError('dns_update_refused', `${where} answered ${rcode} to the update of ${name}`, {
        hint: fixHint(domain),
        detail: { rcode },
      });
  }
}

function tsigRefusal(error: number, settings: Rfc2136Settings, name: string): CoreError {
  const code = tsigErrorName(error);
  const domain = name.replace(/^_acme-challenge\./, '');
  const why: Record<string, string> = {
    BADSIG: `the secret of TSIG key ${settings.keyName} does not match the server's`,
    BADKEY: `the server does not know TSIG key ${settings.keyName} with algorithm ${settings.algorithm}`,
    BADTIME: "this host's clock and the server's differ by more than 5 minutes",
  };
  return new CoreError(
    'dns_update_refused',
    `${settings.server} refused the update of ${name}: TSIG ${code}, ${why[code] ?? 'the signature was not accepted'}`,
    { hint: fixHint(domain), detail: { tsigError: code } },
  );
}

export function createRfc2136Client(opts: Rfc2136ClientOptions = {}): DnsUpdateClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  async function findZone(server: string, name: string): Promise<string> {
    const answer = decode(await exchange(server, buildQuery(randomInt(0x10000), name, 'SOA'), timeoutMs), server);
    const soa = [...(answer.answers ?? []), ...(answer.authorities ?? [])].find((r) => r.type === 'SOA');
    if ((answer.rcode === 'NOERROR' || answer.rcode === 'NXDOMAIN') && soa) return normalizeZone(soa.name);
    throw new CoreError(
      'dns_update_refused',
      `${server} names no zone for ${name} (answered ${answer.rcode}); is it the primary server of the zone?`,
      {
        hint: runCommand('or name the zone with', [
          'domain',
          'dns',
          'set',
          name.replace(/^_acme-challenge\./, ''),
          '--zone',
        ]),
      },
    );
  }

  async function update(settings: Rfc2136Settings, secret: Buffer, change: TxtChange): Promise<void> {
    const zone = settings.zone ?? (await findZone(settings.server, change.name));
    const key: TsigKey = { name: settings.keyName, algorithm: settings.algorithm, secret };
    const request = signMessage(buildTxtUpdate(randomInt(0x10000), zone, [change]), key, nowSeconds());
    const raw = await exchange(settings.server, request.message, timeoutMs);
    const answer = decode(raw, settings.server);
    const verdict = verifyResponse(raw, request.mac, key, nowSeconds());
    if (!verdict.ok && verdict.reason === 'server-error') throw tsigRefusal(verdict.error, settings, change.name);
    if (answer.rcode !== 'NOERROR') throw refusal(answer.rcode, { settings, zone, name: change.name });
    if (!verdict.ok) {
      throw new CoreError(
        'dns_update_refused',
        `${settings.server} answered the update of ${change.name}, but ${verdict.detail}; the answer is not trusted`,
        { detail: { tsig: verdict.reason } },
      );
    }
  }

  return {
    findZone: (server, name) => findZone(server, name),
    addTxt: (settings, secret, name, value) => update(settings, secret, { op: 'add', name, value }),
    removeTxt: (settings, secret, name, value) => update(settings, secret, { op: 'delete', name, value }),
  };
}
