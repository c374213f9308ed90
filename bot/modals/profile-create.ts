import { parseJsonObject } from '../json-object.ts';
import type { types } from '@slack/bolt';
import { describeKeySpec, isKeySpec, KEY_SPECS, type KeySpec } from '../../core/domain/key-spec.ts';
import { problemOf } from '../../core/domain/validation/field-problems.ts';
import type { DirectoryInfo } from '../../core/ports/acme-gateway.ts';
import { type ProfileView, resolveDirectoryUrl, validateSettings } from '../../core/services/profile-service.ts';
import { context, escapeMrkdwn as e, section } from '../blocks/message.ts';
import { input, modal, plain, textInput, VALUE } from './elements.ts';
import { checkedOf, type FieldErrors, type Parsed, type StateValues, selectedOf, textOf } from './form-values.ts';
import { linkOrText, profileDetailBlocks } from '../blocks/profile-detail.ts';

/**
 * The "Let's Encrypt CA management profile" form in two steps. Step 1 holds the settings and is validated
 * here, then against the CA's directory; step 2 shows what the CA asks (terms of service, external account
 * binding) and creates the profile. Between the steps the entered settings ride in `private_metadata`;
 * the EAB HMAC key never does, nor any other secret.
 */
export const PROFILE_CREATE_VIEW = 'profile_create';
export const PROFILE_CONFIRM_VIEW = 'profile_create_confirm';
/** Every input block has one element, and its action id is always this. */

export const PROFILE_BLOCK = {
  name: 'profile_name',
  server: 'profile_server',
  serverUrl: 'profile_server_url',
  keySpec: 'profile_key_spec',
  contact: 'profile_contact',
  renewDays: 'profile_renew_days',
  deployTime: 'profile_deploy_time',
  timeZone: 'profile_time_zone',
  automation: 'profile_automation',
  approvals: 'profile_approvals',
  tos: 'profile_tos',
  eabKid: 'profile_eab_kid',
  eabHmac: 'profile_eab_hmac',
} as const;

export type ServerChoice = 'production' | 'staging' | 'custom';
const SERVER_LABEL: Record<ServerChoice, string> = {
  production: "Production (Let's Encrypt)",
  staging: "Staging (Let's Encrypt)",
  custom: 'Custom URL',
};

/** Step 1, checked: everything the profile needs except what the CA must be asked about. No secrets. */
export interface ProfileDraft {
  name: string;
  server: ServerChoice;
  /** Only for `custom`. */
  customUrl: string;
  keySpec: KeySpec;
  contact: string[];
  renewDaysBefore: number;
  deployTime: string;
  deployTimeZone: string;
  autoRenew: boolean;
  autoDeploy: boolean;
  renewApproval: boolean;
  deployApproval: boolean;
}

/**
 * What step 2 needs to know about the CA, its URLs clipped so the metadata stays below Slack's 3000
 * characters. The directory URL itself is the draft's (`directoryUrlOf`), not stored twice.
 */
export interface DirectorySummary {
  termsOfService: string | null;
  website: string | null;
  externalAccountRequired: boolean;
}

export interface ProfileFormMetadata {
  /** Where `/acme profile create` ran, for the confirmation. */
  channel?: string;
  /** Opened by `/acme setup`: once created, the modal goes on to the BIG-IP form (decision 0035). */
  setup?: boolean;
  draft?: ProfileDraft;
  directory?: DirectorySummary;
}

export type { FieldErrors, Parsed, StateValues } from './form-values.ts';

const MAX_NAME = 64;
const MAX_URL = 500;
const MAX_CONTACT = 500;
const MAX_TIME_ZONE = 64;
const MAX_EAB_KID = 255;
const MAX_EAB_HMAC = 500;
export const MAX_METADATA = 3000;

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function serverOf(draft: Pick<ProfileDraft, 'server' | 'customUrl'>): string {
  return draft.server === 'custom' ? draft.customUrl : draft.server;
}

/** The directory URL the draft names (aliases resolved as the core resolves them). */
export function directoryUrlOf(draft: Pick<ProfileDraft, 'server' | 'customUrl'>): string {
  return resolveDirectoryUrl(serverOf(draft));
}

export function summarizeDirectory(d: DirectoryInfo): DirectorySummary {
  const within = (u: string | null, max: number) => (u !== null && u.length <= max ? u : null);
  return {
    termsOfService: within(d.termsOfService, 600),
    website: within(d.website, 300),
    externalAccountRequired: d.externalAccountRequired,
  };
}

// ---- metadata ------------------------------------------------------------------------------------------

/** Within Slack's limit even at the inputs' maximum lengths; past it the CA's website, then its ToS link, go. */
export function encodeProfileMetadata(m: ProfileFormMetadata): string {
  let raw = JSON.stringify(m);
  if (raw.length > MAX_METADATA && m.directory)
    raw = JSON.stringify({ ...m, directory: { ...m.directory, website: null } });
  if (raw.length > MAX_METADATA && m.directory)
    raw = JSON.stringify({ ...m, directory: { ...m.directory, website: null, termsOfService: null } });
  return raw;
}

const str = (v: unknown): v is string => typeof v === 'string';
const bool = (v: unknown): v is boolean => typeof v === 'boolean';

/** Reads the metadata back, shape-checked: anything that does not fit is dropped, never trusted. */
export function decodeProfileMetadata(raw: string | undefined): ProfileFormMetadata {
  const o = parseJsonObject(raw);
  if (!o) return {};
  const out: ProfileFormMetadata = {};
  if (str(o['channel']) && /^[A-Z0-9]+$/.test(o['channel'])) out.channel = o['channel'];
  if (o['setup'] === true) out.setup = true;
  const d = o['draft'] as Record<string, unknown> | undefined;
  if (
    d &&
    typeof d === 'object' &&
    str(d['name']) &&
    (d['server'] === 'production' || d['server'] === 'staging' || d['server'] === 'custom') &&
    str(d['customUrl']) &&
    isKeySpec(d['keySpec']) &&
    Array.isArray(d['contact']) &&
    d['contact'].every(str) &&
    typeof d['renewDaysBefore'] === 'number' &&
    str(d['deployTime']) &&
    str(d['deployTimeZone']) &&
    bool(d['autoRenew']) &&
    bool(d['autoDeploy']) &&
    bool(d['renewApproval']) &&
    bool(d['deployApproval'])
  ) {
    out.draft = {
      name: d['name'],
      server: d['server'],
      customUrl: d['customUrl'],
      keySpec: d['keySpec'],
      contact: d['contact'] as string[],
      renewDaysBefore: d['renewDaysBefore'],
      deployTime: d['deployTime'],
      deployTimeZone: d['deployTimeZone'],
      autoRenew: d['autoRenew'],
      autoDeploy: d['autoDeploy'],
      renewApproval: d['renewApproval'],
      deployApproval: d['deployApproval'],
    };
  }
  const dir = o['directory'] as Record<string, unknown> | undefined;
  if (dir && typeof dir === 'object' && bool(dir['externalAccountRequired'])) {
    out.directory = {
      termsOfService: str(dir['termsOfService']) ? dir['termsOfService'] : null,
      website: str(dir['website']) ? dir['website'] : null,
      externalAccountRequired: dir['externalAccountRequired'],
    };
  }
  return out;
}

// ---- parsing ---------------------------------------------------------------------------------------------

/** The core's own rule for a setting, as a field error instead of a throw. */
const settingError = (check: () => void): string | undefined => problemOf(check) ?? undefined;

export function splitContacts(raw: string): string[] {
  return raw
    .split(/[\s,;]+/)
    .map((c) => c.replace(/^mailto:/i, ''))
    .filter(Boolean);
}

/** Step 1's fields, checked with the core's rules; errors keyed by input block id. */
export function parseProfileStep1(values: StateValues): Parsed<ProfileDraft> {
  const errors: FieldErrors = {};
  const name = textOf(values, PROFILE_BLOCK.name);
  if (!PROFILE_NAME.test(name))
    errors[PROFILE_BLOCK.name] = 'Use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.';

  const chosen = selectedOf(values, PROFILE_BLOCK.server);
  const customUrl = textOf(values, PROFILE_BLOCK.serverUrl);
  let server: ServerChoice | undefined;
  if (chosen === 'production' || chosen === 'staging' || chosen === 'custom') server = chosen;
  else errors[PROFILE_BLOCK.server] = 'Choose a CA server.';
  if (server === 'custom') {
    if (!customUrl) errors[PROFILE_BLOCK.serverUrl] = 'Give the ACME directory URL of your CA (https://…/directory).';
    else {
      const problem = settingError(() => resolveDirectoryUrl(customUrl));
      if (problem) errors[PROFILE_BLOCK.serverUrl] = problem;
      else if (!/^https?:\/\//i.test(customUrl))
        errors[PROFILE_BLOCK.serverUrl] = 'Give the full directory URL, starting with https://.';
    }
  } else if (server && customUrl) {
    errors[PROFILE_BLOCK.serverUrl] = 'Choose “Custom URL” above to use this URL, or clear it.';
  }

  const keySpec = selectedOf(values, PROFILE_BLOCK.keySpec);
  if (!isKeySpec(keySpec)) errors[PROFILE_BLOCK.keySpec] = `Choose key properties (${KEY_SPECS.join(', ')}).`;

  const contact = splitContacts(textOf(values, PROFILE_BLOCK.contact));
  const contactProblem = settingError(() => validateSettings({ contact }));
  if (contactProblem) errors[PROFILE_BLOCK.contact] = contactProblem;

  const daysText = textOf(values, PROFILE_BLOCK.renewDays);
  const renewDaysBefore = /^\d{1,3}$/.test(daysText) ? Number(daysText) : Number.NaN;
  const daysProblem = settingError(() => validateSettings({ renewDaysBefore }));
  if (daysProblem) errors[PROFILE_BLOCK.renewDays] = 'A whole number of days from 1 to 365.';

  const deployTime = textOf(values, PROFILE_BLOCK.deployTime);
  const timeProblem = settingError(() => validateSettings({ deployTime }));
  if (timeProblem) errors[PROFILE_BLOCK.deployTime] = 'A time of day, HH:MM on a 24-hour clock.';

  const deployTimeZone = textOf(values, PROFILE_BLOCK.timeZone) || 'UTC';
  const zoneProblem = settingError(() => validateSettings({ deployTimeZone }));
  if (zoneProblem) errors[PROFILE_BLOCK.timeZone] = zoneProblem;

  if (Object.keys(errors).length > 0 || !server || !isKeySpec(keySpec)) return { ok: false, errors };
  const automation = checkedOf(values, PROFILE_BLOCK.automation);
  const approvals = checkedOf(values, PROFILE_BLOCK.approvals);
  return {
    ok: true,
    value: {
      name,
      server,
      customUrl: server === 'custom' ? customUrl : '',
      keySpec,
      contact,
      renewDaysBefore,
      deployTime,
      deployTimeZone,
      autoRenew: automation.has('auto_renew'),
      autoDeploy: automation.has('auto_deploy'),
      renewApproval: approvals.has('renew_approval'),
      deployApproval: approvals.has('deploy_approval'),
    },
  };
}

export interface Step2Input {
  eab?: { kid: string; hmacKey: string };
}

/** Step 2: the ToS acceptance, and the EAB credentials when the CA requires them. */
export function parseProfileStep2(values: StateValues, externalAccountRequired: boolean): Parsed<Step2Input> {
  const errors: FieldErrors = {};
  if (!checkedOf(values, PROFILE_BLOCK.tos).has('accept'))
    errors[PROFILE_BLOCK.tos] = "Accept the CA's terms of service to create an account.";
  if (!externalAccountRequired) return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value: {} };
  const kid = textOf(values, PROFILE_BLOCK.eabKid);
  // Not trimmed inside: a key with a space in it is a paste error, not a key.
  const hmacKey = textOf(values, PROFILE_BLOCK.eabHmac);
  if (!kid) errors[PROFILE_BLOCK.eabKid] = 'This CA requires external account binding: give the EAB key id.';
  else if (/\s/.test(kid) || kid.length > MAX_EAB_KID) errors[PROFILE_BLOCK.eabKid] = 'The EAB key id has no spaces.';
  if (!hmacKey) errors[PROFILE_BLOCK.eabHmac] = 'This CA requires external account binding: give the EAB HMAC key.';
  else if (!/^[A-Za-z0-9_\-+/]+=*$/.test(hmacKey))
    errors[PROFILE_BLOCK.eabHmac] = 'The EAB HMAC key is the base64url text your CA gave you.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { eab: { kid, hmacKey } } };
}

// ---- views ---------------------------------------------------------------------------------------------

const option = (value: string, text: string): types.PlainTextOption => ({ value, text: plain(text) });

function checkboxes(options: types.PlainTextOption[], checked: string[]): types.Checkboxes {
  const initial = options.filter((o) => o.value !== undefined && checked.includes(o.value));
  return { type: 'checkboxes', action_id: VALUE, options, ...(initial.length > 0 ? { initial_options: initial } : {}) };
}

const problem = (message: string): types.SectionBlock => section(`:warning: ${e(message)}`);

/**
 * The terms-of-service agreement on step 1, so that a CA without external account binding needs one
 * submission: ticked, the profile is created as soon as the CA's directory has been read (and the ToS link
 * it publishes is shown with the result and audited); unticked, step 2 shows that link and asks.
 */
function tosAgreement(): types.KnownBlock[] {
  const accept: types.MrkdwnOption = {
    value: 'accept',
    text: { type: 'mrkdwn', text: "I accept the CA's terms of service" },
    description: plain('Unticked, the next step shows the link the CA publishes and asks.'),
  };
  return [
    context(
      "Let's Encrypt's terms of service: <https://letsencrypt.org/repository/|letsencrypt.org/repository>. Another CA publishes its own link in its directory; leave the box unticked to read it before anything is created.",
    ),
    input(
      PROFILE_BLOCK.tos,
      'Terms of service',
      { type: 'checkboxes', action_id: VALUE, options: [accept] },
      { optional: true },
    ),
  ];
}

/** Whether step 1 was submitted with the terms of service accepted. */
export function tosAcceptedOf(values: StateValues): boolean {
  return checkedOf(values, PROFILE_BLOCK.tos).has('accept');
}

/** Step 1. `draft` prefills it (back from a CA error); `error` says what went wrong, on top. */
export function profileStep1View(opts: {
  metadata: string;
  draft?: ProfileDraft;
  error?: string;
  /** Opened by `/acme setup`: says which step of three this is. */
  setup?: boolean;
}): types.ModalView {
  const d = opts.draft;
  const servers = (Object.keys(SERVER_LABEL) as ServerChoice[]).map((s) => option(s, SERVER_LABEL[s]));
  const keys = KEY_SPECS.map((k) => option(k, `${describeKeySpec(k)} (${k})`));
  const automation = [
    option('auto_renew', 'Renew automatically'),
    option('auto_deploy', 'Deploy renewed certificates automatically'),
  ];
  const approvals = [
    option('renew_approval', 'Each renewal waits for an approval'),
    option('deploy_approval', 'Each automatic deploy waits for an approval'),
  ];
  const initialServer = servers.find((o) => o.value === d?.server);
  const initialKey = keys.find((o) => o.value === (d?.keySpec ?? 'ec-p256'));
  const blocks: types.KnownBlock[] = [
    ...(opts.setup ? [section('*Step 1 of 3: the CA.* Then the BIG-IP, then the certificate request.')] : []),
    ...(opts.error ? [problem(opts.error)] : []),
    section(
      "A CA management profile: which ACME CA, which account key, and when certificates renew and deploy. Name, CA server and key properties can't change later.",
    ),
    input(
      PROFILE_BLOCK.name,
      'Profile name',
      textInput({ initial: d?.name, placeholder: 'letsencrypt-prod', max: MAX_NAME }),
    ),
    input(PROFILE_BLOCK.server, 'CA server', {
      type: 'static_select',
      action_id: VALUE,
      placeholder: plain('Choose a CA'),
      options: servers,
      ...(initialServer ? { initial_option: initialServer } : {}),
    }),
    input(
      PROFILE_BLOCK.serverUrl,
      'Custom ACME directory URL',
      textInput({ initial: d?.customUrl, placeholder: 'https://acme.example.com/directory', max: MAX_URL }),
      {
        optional: true,
        hint: 'Only with “Custom URL” above.',
      },
    ),
    input(PROFILE_BLOCK.keySpec, 'Key properties', {
      type: 'static_select',
      action_id: VALUE,
      options: keys,
      ...(initialKey ? { initial_option: initialKey } : {}),
    }),
    input(
      PROFILE_BLOCK.contact,
      'Contact e-mail(s)',
      textInput({ initial: d?.contact.join(', '), placeholder: 'ops@example.com, pki@example.com', max: MAX_CONTACT }),
      {
        optional: true,
        hint: 'The CA writes here about problems with your account; separate several with commas.',
      },
    ),
    input(PROFILE_BLOCK.renewDays, 'Auto-renew: days before expiry', {
      type: 'number_input',
      action_id: VALUE,
      is_decimal_allowed: false,
      min_value: '1',
      max_value: '365',
      initial_value: String(d?.renewDaysBefore ?? 7),
    }),
    input(PROFILE_BLOCK.deployTime, 'Auto-deploy time', {
      type: 'timepicker',
      action_id: VALUE,
      initial_time: d?.deployTime ?? '00:00',
    }),
    input(
      PROFILE_BLOCK.timeZone,
      'Time zone',
      textInput({ initial: d?.deployTimeZone ?? 'UTC', placeholder: 'Europe/Berlin', max: MAX_TIME_ZONE }),
      {
        hint: 'An IANA time zone name, like UTC or Europe/Berlin.',
      },
    ),
    input(
      PROFILE_BLOCK.automation,
      'Automation',
      checkboxes(
        automation,
        d
          ? [...(d.autoRenew ? ['auto_renew'] : []), ...(d.autoDeploy ? ['auto_deploy'] : [])]
          : ['auto_renew', 'auto_deploy'],
      ),
      {
        optional: true,
      },
    ),
    input(
      PROFILE_BLOCK.approvals,
      'Semi-automatic',
      checkboxes(
        approvals,
        d ? [...(d.renewApproval ? ['renew_approval'] : []), ...(d.deployApproval ? ['deploy_approval'] : [])] : [],
      ),
      {
        optional: true,
      },
    ),
    ...tosAgreement(),
  ];
  return modal(PROFILE_CREATE_VIEW, 'New CA profile', blocks, { submit: 'Create', metadata: opts.metadata });
}

/** Step 2: what the CA said about itself, the ToS acceptance, and EAB inputs when the CA requires them. */
export function profileStep2View(opts: {
  metadata: string;
  draft: ProfileDraft;
  directory: DirectorySummary;
  error?: string;
  eabKid?: string;
}): types.ModalView {
  const { draft, directory } = opts;
  const facts = [
    `*Profile:* ${e(draft.name)} · ${e(describeKeySpec(draft.keySpec))}`,
    `*CA directory:* ${linkOrText(directoryUrlOf(draft))}`,
    `*Terms of service:* ${directory.termsOfService ? linkOrText(directory.termsOfService) : 'the CA publishes none'}`,
    ...(directory.website ? [`*Website:* ${linkOrText(directory.website)}`] : []),
    `*External account binding:* ${directory.externalAccountRequired ? 'required' : 'not required'}`,
  ];
  const blocks: types.KnownBlock[] = [
    ...(opts.error ? [problem(opts.error)] : []),
    section(facts.join('\n')),
    input(PROFILE_BLOCK.tos, 'Terms of service', checkboxes([option('accept', 'I accept the terms of service')], [])),
  ];
  if (directory.externalAccountRequired) {
    blocks.push(
      input(PROFILE_BLOCK.eabKid, 'EAB key id', textInput({ initial: opts.eabKid, max: MAX_EAB_KID })),
      // Never prefilled: the HMAC key goes straight to the core and is never sent back to Slack.
      input(PROFILE_BLOCK.eabHmac, 'EAB HMAC key', textInput({ max: MAX_EAB_HMAC }), {
        hint: 'From your CA account; stored encrypted. Slack shows what you type here.',
      }),
    );
  }
  blocks.push(context('Create registers an ACME account with this CA; it can take a few seconds.'));
  return modal(PROFILE_CONFIRM_VIEW, 'New CA profile', blocks, {
    submit: 'Create',
    close: 'Cancel',
    metadata: opts.metadata,
  });
}

/** The short-lived view while the CA is asked: no inputs, no submit button, so it cannot be submitted. */
export function profileWorkingView(text: string): types.ModalView {
  return modal(
    `${PROFILE_CREATE_VIEW}_working`,
    'New CA profile',
    [section(`:hourglass_flowing_sand: ${e(text)}`), context('This takes a few seconds; the form updates by itself.')],
    {
      close: 'Close',
    },
  );
}

export function profileCreatedView(profile: ProfileView, termsOfService?: string | null): types.ModalView {
  return modal(
    `${PROFILE_CREATE_VIEW}_done`,
    'Profile created',
    [
      section(
        `:white_check_mark: Profile *${e(profile.name)}* is ready; its ACME account is registered.${termsOfService ? `\nTerms of service accepted: ${linkOrText(termsOfService)}` : ''}`,
      ),
      ...profileDetailBlocks(profile),
    ],
    {
      close: 'Done',
    },
  );
}
