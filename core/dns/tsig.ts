import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigAlgorithm } from '../domain/dns-publisher.ts';

/**
 * TSIG (RFC 8945): signing a DNS message with a shared HMAC key and checking the signed answer. Pure: bytes
 * in, bytes out, the time passed in. The wire encoding of the message itself is dns-packet's; this module adds
 * and reads the one record dns-packet does not know (type 250), per RFC 8945 §4.2-§5.3.
 */

const HASH: Record<TsigAlgorithm, string> = {
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

export interface TsigKey {
  /** The key's name as the server knows it, e.g. `acme-example-com` (case-insensitive). */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

const TYPE_TSIG = 250;
const CLASS_ANY = 255;
/** Seconds of clock difference a signature tolerates (RFC 8945 §10: 300 recommended). */
export const DEFAULT_FUDGE = 300;

/** The TSIG error field's values (RFC 8945 §3, IANA DNS RCODEs ≥ 16). */
export const TSIG_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

export function tsigErrorName(code: number): string {
  return TSIG_ERROR_NAMES[code] ?? `TSIG error ${code}`;
}

/** A name in canonical wire form (RFC 4034 §6.2): lower case, uncompressed, root label last. */
export function canonicalName(name: string): Buffer {
  const labels = name
    .toLowerCase()
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new RangeError(`DNS label longer than 63 bytes in "${name}"`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** 48-bit big-endian seconds since the epoch (RFC 8945 §4.2 Time Signed). */
function uint48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** The TSIG variables that go into the MAC after the message (RFC 8945 §4.3.3). */
function tsigVariables(
  key: Pick<TsigKey, 'name' | 'algorithm'>,
  fields: { timeSigned: number; fudge: number; error: number; other: Buffer },
): Buffer {
  return Buffer.concat([
    canonicalName(key.name),
    uint16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    canonicalName(key.algorithm),
    uint48(fields.timeSigned),
    uint16(fields.fudge),
    uint16(fields.error),
    uint16(fields.other.length),
    fields.other,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(HASH[key.algorithm], key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A signed message and its MAC, which the answer's signature covers (RFC 8945 §5.3). */
export interface SignedMessage {
  message: Buffer;
  mac: Buffer;
}

/**
 * Appends a TSIG record to `message` (a complete DNS message whose additional section does not yet hold one)
 * and adds it to ARCOUNT. `timeSigned` in seconds since the epoch.
 */
export function signMessage(message: Buffer, key: TsigKey, timeSigned: number, fudge = DEFAULT_FUDGE): SignedMessage {
  if (message.length < 12) throw new RangeError('a DNS message is at least 12 bytes');
  const mac = hmac(key, message, tsigVariables(key, { timeSigned, fudge, error: 0, other: Buffer.alloc(0) }));
  const rdata = Buffer.concat([
    canonicalName(key.algorithm),
    uint48(timeSigned),
    uint16(fudge),
    uint16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    uint16(0), // error
    uint16(0), // other len
  ]);
  const record = Buffer.concat([
    canonicalName(key.name),
    uint16(TYPE_TSIG),
    uint16(CLASS_ANY),
    Buffer.alloc(4),
    uint16(rdata.length),
    rdata,
  ]);
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/** The TSIG record of a message, as read from the wire. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

/** Offset just past the (possibly compressed) name starting at `offset`. */
function skipName(buf: Buffer, offset: number): number {
  let at = offset;
  for (;;) {
    const len = buf[at];
    if (len === undefined) throw new RangeError('DNS message ends inside a name');
    if ((len & 0xc0) === 0xc0) return at + 2;
    if (len === 0) return at + 1;
    at += len + 1;
  }
}

/** An uncompressed name read from the wire (TSIG names are never compressed, RFC 8945 §4.2). */
function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  for (;;) {
    const len = buf[at];
    if (len === undefined) throw new RangeError('DNS message ends inside a name');
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: at + 1 };
    if ((len & 0xc0) !== 0) throw new RangeError('compressed name in a TSIG record');
    labels.push(buf.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += len + 1;
  }
}

/**
 * Splits a message into the message as it was before it was signed (TSIG record removed, ARCOUNT one less, the
 * original ID restored) and its TSIG record; null when its last additional record is not a TSIG record.
 */
export function splitTsig(message: Buffer): { unsigned: Buffer; tsig: TsigRecord } | null {
  if (message.length < 12) throw new RangeError('a DNS message is at least 12 bytes');
  const qd = message.readUInt16BE(4);
  const rrs = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
  if (message.readUInt16BE(10) === 0) return null;
  let at = 12;
  for (let i = 0; i < qd; i += 1) at = skipName(message, at) + 4;
  let last = at;
  for (let i = 0; i < rrs; i += 1) {
    last = at;
    at = skipName(message, at);
    const rdlength = message.readUInt16BE(at + 8);
    at += 10 + rdlength;
  }
  if (at > message.length) throw new RangeError('DNS message shorter than its records');
  const owner = readName(message, last);
  if (message.readUInt16BE(owner.end) !== TYPE_TSIG) return null;
  let r = owner.end + 10;
  const algorithm = readName(message, r);
  r = algorithm.end;
  const timeSigned = message.readUIntBE(r, 6);
  const fudge = message.readUInt16BE(r + 6);
  const macSize = message.readUInt16BE(r + 8);
  const mac = Buffer.from(message.subarray(r + 10, r + 10 + macSize));
  r += 10 + macSize;
  const originalId = message.readUInt16BE(r);
  const error = message.readUInt16BE(r + 2);
  const otherLen = message.readUInt16BE(r + 4);
  const other = Buffer.from(message.subarray(r + 6, r + 6 + otherLen));
  const unsigned = Buffer.from(message.subarray(0, last));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(message.readUInt16BE(10) - 1, 10);
  return {
    unsigned,
    tsig: { keyName: owner.name, algorithm: algorithm.name, timeSigned, fudge, mac, originalId, error, other },
  };
}

/** Why an answer's signature is not accepted; `server-*` is the server's verdict on the request's signature. */
export type TsigVerdict =
  | { ok: true }
  | { ok: false; reason: 'unsigned' | 'wrong-key' | 'bad-mac' | 'bad-time'; detail: string }
  | { ok: false; reason: 'server-error'; error: number; detail: string };

/**
 * Checks a signed answer to a request signed with `requestMac` (RFC 8945 §5.3): the same key and algorithm,
 * the MAC over the request MAC, the answer and its TSIG variables, and the time within fudge of `now` (seconds).
 * A TSIG error the server reports (BADSIG, BADKEY, BADTIME) comes first: its answer is unsigned or signed
 * over nothing the client can check (RFC 8945 §5.3.2), and it is the cause to tell.
 */
export function verifyResponse(response: Buffer, requestMac: Buffer, key: TsigKey, now: number): TsigVerdict {
  const split = splitTsig(response);
  if (!split) return { ok: false, reason: 'unsigned', detail: 'the answer carries no TSIG signature' };
  const { unsigned, tsig } = split;
  if (tsig.error !== 0) {
    return {
      ok: false,
      reason: 'server-error',
      error: tsig.error,
      detail: `the server answered TSIG ${tsigErrorName(tsig.error)}`,
    };
  }
  if (tsig.keyName !== canonicalKeyName(key.name) || tsig.algorithm !== key.algorithm) {
    return {
      ok: false,
      reason: 'wrong-key',
      detail: `the answer is signed with key ${tsig.keyName} (${tsig.algorithm}), not ${canonicalKeyName(key.name)} (${key.algorithm})`,
    };
  }
  const expected = hmac(
    key,
    uint16(requestMac.length),
    requestMac,
    unsigned,
    tsigVariables(key, { timeSigned: tsig.timeSigned, fudge: tsig.fudge, error: tsig.error, other: tsig.other }),
  );
  if (expected.length !== tsig.mac.length || !timingSafeEqual(expected, tsig.mac)) {
    return { ok: false, reason: 'bad-mac', detail: "the answer's TSIG signature does not verify with this key" };
  }
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    return {
      ok: false,
      reason: 'bad-time',
      detail: `the answer was signed ${now - tsig.timeSigned} s from this host's clock (fudge ${tsig.fudge} s)`,
    };
  }
  return { ok: true };
}

function canonicalKeyName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
