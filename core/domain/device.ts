import { CoreError } from '../errors.ts';
import type { HaTopology } from './ha-topology.ts';

/** A managed BIG-IP: where its management interface is and how to trust it. The password is sealed. */
export interface Device {
  id: string;
  /** Operator's handle for the device; unique. */
  name: string;
  /** Management base URL, `https://host[:port]`, no path. */
  url: string;
  username: string;
  /** Sealed (AAD `devices:<id>:password`). */
  passwordSealed: string;
  /** Partition new objects go to unless a binding names another. */
  partition: string;
  /** PEM CA bundle trusted for the management interface; null → Node's bundled roots. */
  caPem: string | null;
  /** TLS verification off: an explicit operator choice, recorded and shown everywhere the device is. */
  insecure: boolean;
  hostname: string | null;
  version: string | null;
  lastTest: DeviceTestResult | null;
  lastTestAt: Date | null;
  /** Device group, peers and failover state as last read; null for a standalone device or before a test. */
  haTopology: HaTopology | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Which layer a connection test got stuck at, from the bottom up. */
export type DeviceTestStage = 'url' | 'dns' | 'tcp' | 'tls' | 'credentials' | 'api' | 'ok';

export interface DeviceTestResult {
  ok: boolean;
  stage: DeviceTestStage;
  message: string;
  hostname?: string | undefined;
  version?: string | undefined;
}

export const DEVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Why `input` is not a management URL, as the end of a sentence; null when it is one: http(s) only, a host,
 * no credentials, path, query or fragment. The URL comes from an administrator, so private addresses are
 * fine (management networks are private); redirects are never followed by the client. The input is never
 * quoted back: a URL that fails to parse can still hold a password.
 */
export function managementUrlProblem(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return 'is not a valid URL (expected https://host[:port])';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `must be https:// (or http://), not ${url.protocol.replace(/:$/, '')}`;
  }
  if (url.username || url.password) return 'must not carry credentials; give the user name and password separately';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return 'must be only scheme, host and port (the client adds /mgmt/…)';
  }
  return null;
}

/** A device's management URL as typed → `scheme://host[:port]`; input_invalid when it breaks the rule above. */
export function parseManagementUrl(input: string): string {
  const problem = managementUrlProblem(input);
  if (problem !== null) throw new CoreError('input_invalid', `device URL ${problem}`);
  const url = new URL(input);
  return `${url.protocol}//${url.host}`;
}

export function validateDeviceName(name: string): string {
  if (!DEVICE_NAME_PATTERN.test(name)) {
    throw new CoreError(
      'input_invalid',
      `device name "${name}" must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}
