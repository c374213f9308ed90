import type { types } from '@slack/bolt';
import { parseJsonObject } from '../json-object.ts';
import { clip, context, escapeMrkdwn as e, section } from '../blocks/message.ts';
import { input, modal, plain, textInput, VALUE } from './elements.ts';
import { type FieldErrors, type Parsed, type StateValues, selectedOf, textOf } from './form-values.ts';

/**
 * `/acme binding add CERT`: pick the device, then one of its client-ssl profiles, listed live over iControl
 * when the device is picked (the device select dispatches; the listener answers with views.update). Or
 * name a new profile to be created from a parent at the first deploy (the CLI's `--create-profile`).
 */
export const BINDING_ADD_VIEW = 'binding_add';
export const DEVICE_PICK_ACTION = 'binding_device_pick';
export const BINDING_BLOCK = {
  device: 'binding_device',
  profile: 'binding_profile',
  newProfile: 'binding_new_profile',
  parent: 'binding_parent',
} as const;

/** Slack's cap on a static select's options. */
const MAX_OPTIONS = 100;
const DEFAULT_PARENT = '/Common/clientssl';

const option = (value: string): types.PlainTextOption => ({ text: plain(value), value: clip(value, 150) });

export interface BindingAddFormInput {
  certificate: string;
  devices: string[];
  /** The picked device and what it answered: its client-ssl profiles, or why they could not be listed. */
  device?: { name: string; profiles: string[] } | { name: string; problem: string };
  notice?: string;
}

export function encodeBindingMetadata(certificate: string): string {
  return JSON.stringify({ certificate });
}

export function decodeBindingMetadata(raw: string | undefined): string | null {
  const o = parseJsonObject(raw);
  return o && typeof o['certificate'] === 'string' && o['certificate'] !== '' ? o['certificate'] : null;
}

export function bindingAddView(f: BindingAddFormInput): types.ModalView {
  const blocks: types.KnownBlock[] = [
    section(`Bind *${e(f.certificate)}* to a client-ssl profile on a BIG-IP. Deploys write to every bound profile.`),
  ];
  if (f.notice) blocks.push(section(`:warning: ${e(f.notice)}`));
  const deviceOptions = f.devices.slice(0, MAX_OPTIONS).map(option);
  const initialDevice = f.device ? deviceOptions.find((o) => o.value === f.device?.name) : undefined;
  blocks.push({
    type: 'input',
    block_id: BINDING_BLOCK.device,
    label: plain('BIG-IP device'),
    dispatch_action: true,
    element: {
      type: 'static_select',
      action_id: DEVICE_PICK_ACTION,
      placeholder: plain('Pick the device'),
      options: deviceOptions,
      ...(initialDevice ? { initial_option: initialDevice } : {}),
    },
  });
  if (!f.device) {
    blocks.push(context('Pick a device to list its client-ssl profiles.'));
    return modal(BINDING_ADD_VIEW, 'Add binding', blocks, {
      submit: 'Bind',
      metadata: encodeBindingMetadata(f.certificate),
    });
  }
  if ('problem' in f.device) {
    blocks.push(
      section(
        `:warning: The profiles of *${e(f.device.name)}* could not be listed: ${e(clip(f.device.problem, 300))}. Type the profile's full path instead.`,
      ),
    );
    blocks.push(
      input(BINDING_BLOCK.newProfile, 'Client-ssl profile', textInput({ max: 255, placeholder: '/Common/acme_www' }), {
        hint: 'Name in the device partition, or /Partition/name.',
      }),
    );
  } else {
    const options = f.device.profiles.slice(0, MAX_OPTIONS).map(option);
    if (options.length > 0)
      blocks.push(
        input(
          BINDING_BLOCK.profile,
          'Existing client-ssl profile',
          { type: 'static_select', action_id: VALUE, placeholder: plain('Pick the profile'), options },
          { optional: true },
        ),
      );
    blocks.push(
      input(
        BINDING_BLOCK.newProfile,
        'Or create a new profile',
        textInput({ max: 255, placeholder: '/Common/acme_www' }),
        { optional: true, hint: 'Created from the parent below at the first deploy.' },
      ),
    );
    const parents = f.device.profiles.includes(DEFAULT_PARENT)
      ? f.device.profiles
      : [DEFAULT_PARENT, ...f.device.profiles];
    const parentOptions = parents.slice(0, MAX_OPTIONS).map(option);
    blocks.push(
      input(
        BINDING_BLOCK.parent,
        'Parent of a new profile',
        {
          type: 'static_select',
          action_id: VALUE,
          options: parentOptions,
          initial_option: parentOptions.find((o) => o.value === DEFAULT_PARENT) ?? parentOptions[0]!,
        },
        { optional: true },
      ),
    );
  }
  return modal(BINDING_ADD_VIEW, 'Add binding', blocks, {
    submit: 'Bind',
    metadata: encodeBindingMetadata(f.certificate),
  });
}

export interface BindingAddFields {
  device: string;
  profile: string;
  createProfile: boolean;
  parent?: string;
}

/** The submitted form: exactly one of an existing profile or a new one's name. */
export function readBindingAdd(values: StateValues): Parsed<BindingAddFields> {
  const errors: FieldErrors = {};
  const device = values[BINDING_BLOCK.device]?.[DEVICE_PICK_ACTION]?.selected_option?.value ?? '';
  if (!device) errors[BINDING_BLOCK.device] = 'Pick the device.';
  const existing = selectedOf(values, BINDING_BLOCK.profile);
  const typed = textOf(values, BINDING_BLOCK.newProfile);
  const listed = values[BINDING_BLOCK.profile] !== undefined;
  // The parent select is shown only when the device's profiles were listed: then a typed name is a new profile.
  const creatable = values[BINDING_BLOCK.parent] !== undefined;
  if (existing && typed) errors[BINDING_BLOCK.newProfile] = 'Pick an existing profile or name a new one, not both.';
  else if (!existing && !typed) {
    if (listed) errors[BINDING_BLOCK.profile] = 'Pick a profile, or name a new one below.';
    else errors[BINDING_BLOCK.newProfile] = 'Type the profile name.';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (existing) return { ok: true, value: { device, profile: existing, createProfile: false } };
  const parent = selectedOf(values, BINDING_BLOCK.parent);
  return { ok: true, value: { device, profile: typed, createProfile: creatable, ...(parent ? { parent } : {}) } };
}

/** The form once bound: what was bound, and that a deploy puts the certificate there. */
export function bindingAddedView(b: {
  certificateName: string;
  deviceName: string;
  profilePath: string;
  createProfile: boolean;
  parentProfile: string;
}): types.ModalView {
  return modal(
    BINDING_ADD_VIEW,
    'Binding added',
    [
      section(
        `:white_check_mark: *${e(b.certificateName)}* is bound to \`${e(b.profilePath)}\` on *${e(b.deviceName)}*${b.createProfile ? ` (created from \`${e(b.parentProfile)}\` at the first deploy if missing)` : ''}.`,
      ),
      context(
        `Deploy it now with \`/acme cert deploy ${e(b.certificateName)}\` or the Deploy button of \`/acme cert show ${e(b.certificateName)}\`.`,
      ),
    ],
    { close: 'Done' },
  );
}
