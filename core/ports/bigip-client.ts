/**
 * The iControl REST calls bigip-acme needs, one method per call (`reference/bigip-icontrol.md`). Paths are
 * BIG-IP full paths (`/Common/www.example.com_20270224.crt`); the adapter turns them into `~Common~…` URLs in
 * one place. Every failure is a {@link BigIpError}: it keeps the HTTP status, the F5 message code and whether
 * a retry can help. Writes accept an explicit transaction handle instead of hidden client state.
 */
import type { BigIpErrorCode, CoreError } from '../errors.ts';

export interface BigIpConnection {
  /** Management base URL, e.g. `https://10.0.0.5` or `https://bigip.example:8443`; no path. */
  url: string;
  username: string;
  password: string;
  /** PEM CA certificates trusted for the management interface; empty uses Node's bundled roots. */
  caPem?: string | undefined;
  /** Skip TLS verification. Only ever an explicit, recorded operator choice. */
  insecure?: boolean | undefined;
  /** Per-request budget in milliseconds (connect + response). Default 30000. */
  timeoutMs?: number | undefined;
}

export interface DeviceInfo {
  hostname: string;
  version: string;
  product: string;
  build: string | null;
}

/** A `sys file ssl-cert` object as the device reports it. */
export interface SslCertFile {
  fullPath: string;
  /** `SHA256/AA:BB:…` exactly as the device reports it. */
  fingerprint: string;
  serialNumber: string | null;
  /** Unix seconds. */
  expirationDate: number | null;
  subject: string | null;
  issuer: string | null;
  isBundle: boolean;
}

export interface SslKeyFile {
  fullPath: string;
  keyType: string | null;
  securityType: 'normal' | 'password' | string;
}

export interface CertKeyChainEntry {
  name: string;
  cert: string;
  key: string;
  /** Full path of the chain object, or `none`. */
  chain: string;
  /** Only sent, never read back (the device stores it encrypted). */
  passphrase?: string | undefined;
}

export interface ClientSslProfile {
  fullPath: string;
  defaultsFrom: string | null;
  certKeyChain: CertKeyChainEntry[];
  /** The SNI name the profile answers (`serverName`); null or absent for 'none'. */
  serverName?: string | null | undefined;
}

export interface DataGroupRecord {
  name: string;
  data: string;
}

export interface DataGroup {
  fullPath: string;
  type: string;
  records: DataGroupRecord[];
}

export interface IRule {
  fullPath: string;
  /** The TCL source (`apiAnonymous`). */
  source: string;
}

export interface VirtualServer {
  fullPath: string;
  destination: string | null;
  /** Full paths of the attached iRules, in order. */
  rules: string[];
  /** Full paths of the attached profiles; read only by {@link BigIpClient.listVirtuals}. */
  profiles?: string[] | undefined;
}

/** A device of the trust domain (`cm/device`). */
export interface HaDeviceRecord {
  name: string;
  /** `active`, `standby`, … ; null when not reported. */
  failoverState: string | null;
  /** `selfDevice: "true"`: the device that answered. */
  self: boolean;
}

/** A device group (`cm/device-group`). */
export interface DeviceGroupRecord {
  name: string;
  fullPath: string;
  type: string;
  autoSync: boolean;
}

/** `cm/sync-status`: one status for the whole device. */
export interface SyncStatusRecord {
  status: string;
  color: string | null;
  summary: string | null;
  /** The detail lines: `bigip2: connected`, `dg1 (In Sync): …`. */
  details: string[];
}

/** An open iControl transaction; pass it to writes that must apply together, then commit. */
export interface BigIpTransaction {
  readonly id: string;
}

export interface WriteOptions {
  transaction?: BigIpTransaction | undefined;
}

export interface BigIpClient {
  /** `GET /mgmt/shared/identified-devices/config/device-info`: the connection test. */
  deviceInfo(): Promise<DeviceInfo>;

  /** Chunked upload (≤ 512 KiB per chunk) to `/var/config/rest/downloads/<fileName>`; returns that path. */
  upload(fileName: string, content: Buffer | string): Promise<string>;
  /** `util unix-rm` of an uploaded file; a missing file is not an error. */
  removeUpload(localFilePath: string): Promise<void>;

  /** `sys crypto key install`; with a passphrase the key is stored with `securityType: password`. */
  installKey(fullPath: string, localFilePath: string, passphrase?: string): Promise<void>;
  /** `sys crypto cert install` (a leaf, or a bundle of intermediates). */
  installCert(fullPath: string, localFilePath: string): Promise<void>;

  /** `GET sys file ssl-cert`; null when the object does not exist. */
  getCert(fullPath: string): Promise<SslCertFile | null>;
  getKey(fullPath: string): Promise<SslKeyFile | null>;
  /** Deletes a cert object; a missing object is not an error. An in-use object throws `bigip_in_use`. */
  deleteCert(fullPath: string, opts?: WriteOptions): Promise<void>;
  deleteKey(fullPath: string, opts?: WriteOptions): Promise<void>;

  getClientSslProfile(fullPath: string): Promise<ClientSslProfile | null>;
  /** Every client-ssl profile on the device (all partitions), for reference checks before deleting. */
  listClientSslProfiles(): Promise<ClientSslProfile[]>;
  createClientSslProfile(
    profile: { fullPath: string; defaultsFrom: string; certKeyChain: CertKeyChainEntry[] },
    opts?: WriteOptions,
  ): Promise<void>;
  /** Replaces the whole `certKeyChain` list. */
  setCertKeyChain(profileFullPath: string, chain: CertKeyChainEntry[], opts?: WriteOptions): Promise<void>;

  beginTransaction(): Promise<BigIpTransaction>;
  /** Commits with `state: VALIDATING`; a failed commit has applied nothing and throws `bigip_transaction_failed`. */
  commitTransaction(tx: BigIpTransaction): Promise<void>;

  /** `sys config save`. */
  saveConfig(): Promise<void>;

  getDataGroup(fullPath: string): Promise<DataGroup | null>;
  createDataGroup(fullPath: string): Promise<void>;
  /** Incremental `records add`; an existing record with the same name is replaced. */
  addDataGroupRecord(fullPath: string, record: DataGroupRecord): Promise<void>;
  /** Incremental `records delete`; a missing record is not an error. */
  deleteDataGroupRecord(fullPath: string, name: string): Promise<void>;

  getRule(fullPath: string): Promise<IRule | null>;
  /** Creates the iRule, or replaces its source when it exists. */
  putRule(fullPath: string, source: string): Promise<void>;

  getVirtual(fullPath: string): Promise<VirtualServer | null>;
  /** Replaces the virtual server's rule list (callers merge). */
  setVirtualRules(fullPath: string, rules: string[]): Promise<void>;

  /** `GET cm/device`: every device of the trust domain. A device without the `cm` API throws bigip_not_found. */
  listHaDevices(): Promise<HaDeviceRecord[]>;
  listDeviceGroups(): Promise<DeviceGroupRecord[]>;
  /** Device names of a group's `devices` subcollection. */
  listDeviceGroupMembers(groupFullPath: string): Promise<string[]>;
  getSyncStatus(): Promise<SyncStatusRecord>;
  /** `config-sync to-group <group>`: starts a push of this device's configuration; 200 means started. */
  configSyncToGroup(group: string): Promise<void>;
  /** Every virtual server with its attached profiles (`expandSubcollections=true`). */
  listVirtuals(): Promise<VirtualServer[]>;

  /** Ends the token session; never throws. */
  close(): Promise<void>;
}

export type BigIpClientFactory = (connection: BigIpConnection) => BigIpClient;

export type { BigIpErrorCode } from '../errors.ts';

/** Detail carried by a BIG-IP CoreError (`err.detail`). */
export interface BigIpErrorDetail {
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** The F5 message code from `"01070317:3: …"`, when present. */
  f5Code: string | null;
  apiError: number | null;
  /** Method and path (no query values, never credentials). */
  request: string;
}

export type BigIpError = CoreError & { code: BigIpErrorCode; detail: BigIpErrorDetail };
