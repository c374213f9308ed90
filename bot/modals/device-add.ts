import { parseJsonObject } from '../json-object.ts';
import { linkOrText } from '../blocks/profile-detail.ts';
import type { types } from '@slack/bolt';
import type { DeviceTestResult } from '../../core/domain/device.ts';
import { checkDeviceFields, type DeviceFields } from '../../core/domain/validation/device-input.ts';
import type { AddDeviceInput, DeviceView } from '../../core/services/device-service.ts';
import { deviceTestBlocks } from '../blocks/device-test.ts';
import { context, escapeMrkdwn as e, section } from '../blocks/message.ts';
import { input, modal, plain, textInput, VALUE } from './elements.ts';
import { checkedOf, type FieldErrors, fieldErrors, type StateValues, textOf, typedTextOf } from './form-values.ts';

/**
 * The "add a BIG-IP" form, mirroring `bigip-acme device add`: where, who, and how to trust its management
 * certificate (a CA bundle, or verification explicitly off). The password goes to the core and is never
 * put back into a view, metadata or log; a re-rendered form leaves it empty.
 */
export const DEVICE_ADD_VIEW = 'device_add';
/** Every input block has one element, and its action id is always this. */

export const DEVICE_BLOCK = {
  name: 'device_name',
  url: 'device_url',
  username: 'device_username',
  password: 'device_password',
  partition: 'device_partition',
  caPem: 'device_ca_pem',
  insecure: 'device_insecure',
} as const;

/** The form's values without the password: what a re-rendered form may show again. */
export interface DeviceDraft {
  name: string;
  url: string;
  username: string;
  partition: string;
  caPem: string;
  insecure: boolean;
}

export type { FieldErrors, StateValues } from './form-values.ts';

/** Slack's cap on a plain-text input; a CA bundle longer than this has to go through the CLI. */
const MAX_PEM = 3000;

/**
 * The form, checked with the core's rules (the device service refuses with the same problems), errors keyed
 * by input block id. The password is returned beside the draft, never inside it, so nothing that re-renders
 * the form can carry it.
 */
export function parseDeviceForm(
  values: StateValues,
): { ok: true; draft: DeviceDraft; password: string } | { ok: false; errors: FieldErrors } {
  const password = typedTextOf(values, DEVICE_BLOCK.password);
  const insecure = checkedOf(values, DEVICE_BLOCK.insecure).has('insecure');
  const fields: DeviceFields = {
    name: textOf(values, DEVICE_BLOCK.name),
    url: textOf(values, DEVICE_BLOCK.url),
    username: textOf(values, DEVICE_BLOCK.username),
    password,
    partition: textOf(values, DEVICE_BLOCK.partition),
    caPem: textOf(values, DEVICE_BLOCK.caPem),
    insecure,
  };
  const checked = checkDeviceFields(fields);
  const errors = checked.ok ? {} : fieldErrors(checked.problems, DEVICE_BLOCK);
  // The form asks for a choice the CLI leaves to the system's trust store: a CA bundle, or verification off.
  if (!fields.caPem?.trim() && !insecure && !errors[DEVICE_BLOCK.caPem])
    errors[DEVICE_BLOCK.caPem] =
      'Paste the CA bundle that signed the management certificate, or tick “skip TLS verification” below.';
  if (!checked.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  const { name, url, username, partition, insecure: skipVerify } = checked.device;
  return {
    ok: true,
    draft: { name, url, username, partition, caPem: fields.caPem?.trim() ?? '', insecure: skipVerify },
    password,
  };
}

export function addDeviceInput(draft: DeviceDraft, password: string): AddDeviceInput {
  return {
    name: draft.name,
    url: draft.url,
    username: draft.username,
    password,
    partition: draft.partition,
    ...(draft.caPem ? { caPem: draft.caPem } : {}),
    insecure: draft.insecure,
  };
}

// ---- views ---------------------------------------------------------------------------------------------

/** The form. `draft` prefills it (never the password); `error` and `test` say why it came back. */
export function deviceAddView(opts: {
  metadata: string;
  draft?: DeviceDraft;
  error?: string;
  test?: DeviceTestResult;
  name?: string;
  /** Said first (mrkdwn): `/acme setup` says what step 1 made and that this is step 2. */
  notice?: string;
}): types.ModalView {
  const d = opts.draft;
  const insecureOption: types.PlainTextOption = { value: 'insecure', text: plain('Skip TLS verification (insecure)') };
  const blocks: types.KnownBlock[] = [
    ...(opts.notice ? [section(opts.notice)] : []),
    ...(opts.error ? [section(`:warning: ${e(opts.error)}`)] : []),
    ...(opts.test ? deviceTestBlocks(opts.name ?? d?.name ?? 'device', opts.test) : []),
    section(
      'A BIG-IP this tool deploys certificates to. The connection is tested (DNS, TCP, TLS, login, API) before anything is saved.',
    ),
    input(DEVICE_BLOCK.name, 'Device name', textInput({ initial: d?.name, placeholder: 'bigip-prod-1', max: 63 })),
    input(
      DEVICE_BLOCK.url,
      'Management URL',
      textInput({ initial: d?.url, placeholder: 'https://10.0.0.5 or https://bigip:8443', max: 300 }),
    ),
    input(
      DEVICE_BLOCK.username,
      'Username',
      textInput({ initial: d?.username, placeholder: 'acme-deployer', max: 128 }),
      { hint: 'An iControl REST user that may manage certificates and client-ssl profiles.' },
    ),
    // Never prefilled. Slack has no masked input: what is typed shows on the typist's screen only.
    input(DEVICE_BLOCK.password, 'Password', textInput({ max: 256 }), {
      hint: 'Stored encrypted; never shown again. Slack displays what you type here.',
    }),
    input(DEVICE_BLOCK.partition, 'Partition', textInput({ initial: d?.partition ?? 'Common', max: 64 })),
    input(
      DEVICE_BLOCK.caPem,
      'CA bundle (PEM)',
      textInput({ initial: d?.caPem, placeholder: '-----BEGIN CERTIFICATE-----', max: MAX_PEM, multiline: true }),
      {
        optional: true,
        hint: 'The CA that signed the management interface certificate. Required unless TLS verification is skipped.',
      },
    ),
    input(
      DEVICE_BLOCK.insecure,
      'TLS verification',
      {
        type: 'checkboxes',
        action_id: VALUE,
        options: [insecureOption],
        ...(d?.insecure ? { initial_options: [insecureOption] } : {}),
      },
      { optional: true, hint: 'Recorded and shown wherever the device is listed.' },
    ),
  ];
  return modal(DEVICE_ADD_VIEW, 'Add a BIG-IP', blocks, { submit: 'Add', metadata: opts.metadata });
}

/** `/acme setup`, step 2: the BIG-IP form, saying the profile is made and which ToS was accepted. */
export function setupDeviceView(
  profile: string,
  termsOfService: string | null,
  channel: string | undefined,
): types.ModalView {
  const tos = termsOfService ? ` (terms of service accepted: ${linkOrText(termsOfService)})` : '';
  return deviceAddView({
    metadata: encodeDeviceMetadata({ ...(channel ? { channel } : {}), setupProfile: profile }),
    notice: `:white_check_mark: CA profile *${e(profile)}* created; its ACME account is registered${tos}.\n*Step 2 of 3: the BIG-IP* that will serve the certificate.`,
  });
}

export function deviceTestingView(draft: DeviceDraft): types.ModalView {
  return modal(
    `${DEVICE_ADD_VIEW}_working`,
    'Add a BIG-IP',
    [
      section(`:hourglass_flowing_sand: Testing the connection to *${e(draft.name)}* at ${e(draft.url)}…`),
      context('DNS, TCP, TLS, login, API. The form updates by itself.'),
    ],
    {
      close: 'Close',
    },
  );
}

export function deviceAddedView(device: DeviceView, test: DeviceTestResult | null): types.ModalView {
  const tls = device.insecure
    ? ':warning: TLS verification off'
    : device.caPem
      ? 'TLS verified with the given CA bundle'
      : 'TLS verified with system CAs';
  const facts = [
    `*Management URL:* ${e(device.url)}`,
    `*Username:* ${e(device.username)} · *Partition:* ${e(device.partition)}`,
    `*TLS:* ${tls}`,
    ...(device.hostname
      ? [`*Hostname:* ${e(device.hostname)}${device.version ? ` · BIG-IP ${e(device.version)}` : ''}`]
      : []),
  ];
  return modal(
    `${DEVICE_ADD_VIEW}_done`,
    'Device added',
    [
      section(`:white_check_mark: Device *${e(device.name)}* added.`),
      section(facts.join('\n')),
      ...(test ? deviceTestBlocks(device.name, test) : []),
    ],
    { close: 'Done' },
  );
}

/**
 * Where `/acme device add` ran, for the confirmation; with `/acme setup`, the profile step 1 created (the
 * request form comes next). Nothing else rides along.
 */
export interface DeviceFormMetadata {
  channel?: string;
  setupProfile?: string;
}

export function encodeDeviceMetadata(m: DeviceFormMetadata): string {
  return JSON.stringify({
    ...(m.channel ? { channel: m.channel } : {}),
    ...(m.setupProfile ? { setupProfile: m.setupProfile } : {}),
  });
}

export function decodeDeviceMetadata(raw: string | undefined): DeviceFormMetadata {
  const v = parseJsonObject(raw);
  if (!v) return {};
  const out: DeviceFormMetadata = {};
  if (typeof v['channel'] === 'string' && /^[A-Z0-9]+$/.test(v['channel'])) out.channel = v['channel'];
  if (typeof v['setupProfile'] === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v['setupProfile']))
    out.setupProfile = v['setupProfile'];
  return out;
}
