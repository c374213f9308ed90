import { managementUrlProblem, validateDeviceName } from '../device.ts';
import { DEFAULT_PARTITION, partitionNameProblem } from '../partition-name.ts';
import { checkCaPem } from './ca-pem.ts';
import { type FieldProblems, problemOf } from './field-problems.ts';

/** A device as someone typed it (the CLI's flags, the Slack form's fields). */
export interface DeviceFields {
  name: string;
  url: string;
  username: string;
  password: string;
  partition?: string | undefined;
  caPem?: string | undefined;
  insecure?: boolean | undefined;
}

/** The fields a problem can be about: a form keys its inputs by these. */
export type DeviceField = keyof DeviceFields;

/** A device that passed the checks, normalised: trimmed, `scheme://host[:port]`, the CA bundle's blocks. */
export interface CheckedDevice {
  name: string;
  url: string;
  username: string;
  partition: string;
  caPem: string | null;
  insecure: boolean;
}

/**
 * Every rule for a new device that needs no network, each problem on its field; the device service refuses
 * with them and the Slack form shows them beside its inputs. The password is never quoted back.
 */
export function checkDeviceFields(
  input: DeviceFields,
): { ok: true; device: CheckedDevice } | { ok: false; problems: FieldProblems } {
  const problems: Partial<Record<DeviceField, string>> = {};
  const name = input.name.trim();
  const nameProblem = problemOf(() => validateDeviceName(name));
  if (nameProblem) problems.name = nameProblem;

  const rawUrl = input.url.trim();
  const urlProblem = managementUrlProblem(rawUrl);
  if (urlProblem !== null) problems.url = `device URL ${urlProblem}`;

  const username = input.username.trim();
  if (!username || /[\s:]/.test(username))
    problems.username = 'device username must be non-empty, without spaces or ":"';
  if (!input.password) problems.password = 'device password must not be empty';

  const partition = (input.partition ?? '').trim() || DEFAULT_PARTITION;
  const partitionProblem = partitionNameProblem(partition);
  if (partitionProblem !== null) problems.partition = `partition "${partition}" ${partitionProblem}`;

  const insecure = input.insecure ?? false;
  const rawCa = (input.caPem ?? '').trim();
  let caPem: string | null = null;
  if (rawCa && insecure) problems.insecure = 'either a CA file or no TLS verification (insecure), not both';
  else if (rawCa) {
    const checked = checkCaPem(rawCa);
    if (checked.ok) caPem = checked.pem;
    else problems.caPem = checked.problem;
  }
  if (urlProblem === null && new URL(rawUrl).protocol === 'http:' && !insecure) {
    problems.url =
      'device URL is plain http://; the password would cross the network unencrypted (use https://, or turn TLS verification off to accept that)';
  }

  if (Object.keys(problems).length > 0) return { ok: false, problems };
  const url = new URL(rawUrl);
  return { ok: true, device: { name, url: `${url.protocol}//${url.host}`, username, partition, caPem, insecure } };
}
