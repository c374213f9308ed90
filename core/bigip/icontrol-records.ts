/**
 * iControl JSON → the port's types, and the checks on values the client puts into tmsh strings or device
 * file paths. Answers are read leniently (a missing optional field becomes null or a default); values sent
 * are checked strictly, because a data-group record name or an upload path ends up inside a tmsh command.
 */
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';
import type {
  CertKeyChainEntry,
  ClientSslProfile,
  DataGroup,
  DeviceInfo,
  IRule,
  SslCertFile,
  SslKeyFile,
  VirtualServer,
} from '../ports/bigip-client.ts';
import { assertFullPath, assertObjectName } from './bigip-path.ts';

export const UPLOAD_DIR = '/var/config/rest/downloads/';
/** How much of a refused value a message quotes. */
const SHOWN_MAX = 80;

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function intOrNull(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return null;
}

/** The answer's `fullPath`, falling back to the one asked for. */
function fullPathOf(o: Json, asked: string): string {
  return str(o['fullPath']) ?? asked;
}

export function toDeviceInfo(json: unknown): DeviceInfo | null {
  const o = obj(json);
  const hostname = str(o['hostname']);
  const version = str(o['version']);
  if (hostname === null || version === null) return null;
  return { hostname, version, product: str(o['product']) ?? 'BIG-IP', build: str(o['build']) };
}

export function toSslCertFile(json: unknown, asked: string): SslCertFile {
  const o = obj(json);
  const serial = o['serialNumber'];
  return {
    fullPath: fullPathOf(o, asked),
    fingerprint: str(o['fingerprint']) ?? '',
    serialNumber: typeof serial === 'number' ? String(serial) : str(serial),
    expirationDate: intOrNull(o['expirationDate']),
    subject: str(o['subject']),
    issuer: str(o['issuer']),
    // A string "true"/"false" on the device; a boolean is accepted too.
    isBundle: o['isBundle'] === 'true' || o['isBundle'] === true,
  };
}

export function toSslKeyFile(json: unknown, asked: string): SslKeyFile {
  const o = obj(json);
  return {
    fullPath: fullPathOf(o, asked),
    keyType: str(o['keyType']),
    securityType: str(o['securityType']) ?? 'normal',
  };
}

function toChainEntry(value: unknown): CertKeyChainEntry {
  const o = obj(value);
  return {
    name: str(o['name']) ?? '',
    cert: str(o['cert']) ?? 'none',
    key: str(o['key']) ?? 'none',
    chain: str(o['chain']) ?? 'none',
  };
}

export function toClientSslProfile(json: unknown, asked: string): ClientSslProfile {
  const o = obj(json);
  const chain = Array.isArray(o['certKeyChain']) ? o['certKeyChain'].map(toChainEntry) : [];
  const serverName = str(o['serverName']);
  return {
    fullPath: fullPathOf(o, asked),
    defaultsFrom: str(o['defaultsFrom']),
    certKeyChain: chain,
    // Only a real server name is carried; 'none' reads as no property, like a profile that never had one.
    ...(serverName === null || serverName === 'none' || serverName === '' ? {} : { serverName }),
  };
}

/** Collection items; items without a full path are skipped. */
export function toClientSslProfiles(json: unknown): ClientSslProfile[] {
  const items = obj(json)['items'];
  if (!Array.isArray(items)) return [];
  return items.filter((item) => str(obj(item)['fullPath']) !== null).map((item) => toClientSslProfile(item, ''));
}

export function toDataGroup(json: unknown, asked: string): DataGroup {
  const o = obj(json);
  const records = Array.isArray(o['records'])
    ? o['records'].map((r) => ({ name: str(obj(r)['name']) ?? '', data: str(obj(r)['data']) ?? '' }))
    : [];
  return { fullPath: fullPathOf(o, asked), type: str(o['type']) ?? 'string', records };
}

export function toIRule(json: unknown, asked: string): IRule {
  const o = obj(json);
  return { fullPath: fullPathOf(o, asked), source: str(o['apiAnonymous']) ?? '' };
}

export function toVirtualServer(json: unknown, asked: string): VirtualServer {
  const o = obj(json);
  const rules = Array.isArray(o['rules']) ? o['rules'].filter((r): r is string => typeof r === 'string') : [];
  const items = obj(o['profilesReference'])['items'];
  const profiles = Array.isArray(items)
    ? items.map((p) => str(obj(p)['fullPath'])).filter((p): p is string => p !== null)
    : undefined;
  return { fullPath: fullPathOf(o, asked), destination: str(o['destination']), rules, profiles };
}

/** Collection items; items without a full path are skipped. */
export function toVirtualServers(json: unknown): VirtualServer[] {
  const items = obj(json)['items'];
  if (!Array.isArray(items)) return [];
  return items.filter((item) => str(obj(item)['fullPath']) !== null).map((item) => toVirtualServer(item, ''));
}

/** The `certKeyChain` entries as sent: every path checked, `chain` defaulting to `none`, passphrase only when set. */
export function chainForRequest(chain: CertKeyChainEntry[]): Json[] {
  return chain.map((entry) => {
    assertObjectName(entry.name, 'certKeyChain entry name');
    assertFullPath(entry.cert, 'certKeyChain cert');
    assertFullPath(entry.key, 'certKeyChain key');
    const chainPath =
      entry.chain === '' || entry.chain === 'none' ? 'none' : assertFullPath(entry.chain, 'certKeyChain chain');
    return {
      name: entry.name,
      cert: entry.cert,
      key: entry.key,
      chain: chainPath,
      ...(entry.passphrase === undefined ? {} : { passphrase: entry.passphrase }),
    };
  });
}

/** Upload file names: a plain basename the device will not treat specially. */
const UPLOAD_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

export function assertUploadName(fileName: string): string {
  if (!UPLOAD_NAME.test(fileName) || fileName.includes('..')) {
    throw new CoreError(
      'input_invalid',
      `upload file name ${clip(fileName, SHOWN_MAX, { quote: true })} must be a plain file name of letters, digits, ".", "_" and "-" (no path, no "..")`,
    );
  }
  if (/\.iso$/i.test(fileName)) {
    throw new CoreError(
      'input_invalid',
      `upload file name ${clip(fileName, SHOWN_MAX, { quote: true })}: .iso images go through autodeploy, not file transfer`,
    );
  }
  return fileName;
}

/**
 * A file the client uploaded: `/var/config/rest/downloads/<name>` and nothing else, so it can be handed to
 * `util unix-rm` and `from-local-file` without any shell or path meaning.
 */
export function assertUploadPath(localFilePath: string): string {
  if (!localFilePath.startsWith(UPLOAD_DIR)) {
    throw new CoreError(
      'input_invalid',
      `uploaded file path ${clip(localFilePath, SHOWN_MAX, { quote: true })} must be under ${UPLOAD_DIR}`,
    );
  }
  assertUploadName(localFilePath.slice(UPLOAD_DIR.length));
  return localFilePath;
}

/**
 * Data-group record names and values go into a tmsh options string (`records add { <name> { data <value> } }`):
 * only `[A-Za-z0-9_.-]` can appear, which covers ACME tokens (base64url) and key authorizations
 * (`token.thumbprint`), and can neither close a brace nor start another clause.
 */
const RECORD_TEXT = /^[A-Za-z0-9_.-]{1,1024}$/;

export function assertRecordText(value: string, what: string): string {
  if (!RECORD_TEXT.test(value)) {
    throw new CoreError(
      'input_invalid',
      `data-group record ${what} ${clip(value, SHOWN_MAX, { quote: true })} may only contain letters, digits, ".", "_" and "-" (1 to 1024 characters)`,
    );
  }
  return value;
}

/** Transaction ids are the device's decimal `transId`; anything else is refused before it reaches a header. */
export function assertTransactionId(id: string): string {
  if (!/^\d{1,30}$/.test(id))
    throw new CoreError(
      'input_invalid',
      `BIG-IP transaction id ${clip(id, SHOWN_MAX, { quote: true })} is not a number`,
    );
  return id;
}
