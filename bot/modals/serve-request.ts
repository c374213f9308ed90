import type { types } from '@slack/bolt';
import type { ServeRequestInput, ServeRequestResult } from '../../core/issuance/request-to-serve.ts';
import { parseJsonObject } from '../json-object.ts';
import { context, escapeMrkdwn as e, section } from '../blocks/message.ts';
import { input, modal, plain, textInput, VALUE } from './elements.ts';
import { type FieldErrors, type Parsed, type StateValues, selectedOf, textOf } from './form-values.ts';

/**
 * "Request a certificate" where it will serve, in one form: the names (those that are not domains yet are
 * added), how new names are validated (the built-in responder), and the binding — a device, and one of its
 * client-ssl profiles listed live over iControl (an external select: Slack asks `block_suggestion` for the
 * options, `bot/listeners/forms/serve-forms.ts` answers) or a new profile made from a parent at the first
 * deploy. The form's last step of `/acme setup`, and `/acme cert new` on its own.
 */
export const SERVE_REQUEST_VIEW = 'serve_request';

export const SERVE_BLOCK = {
  profile: 'serve_profile',
  names: 'serve_names',
  challenge: 'serve_challenge',
  device: 'serve_device',
  clientSsl: 'serve_client_ssl',
} as const;

/** The external select's option for "create a new profile from this parent": `new:<parent full path>`. */
export const NEW_PROFILE_PREFIX = 'new:';
export const DEFAULT_PARENT = '/Common/clientssl';

export interface ServeFormMetadata {
  channel?: string;
  /** Set by `/acme setup`: what the earlier steps created, preselected here. */
  profile?: string;
  device?: string;
}

export function encodeServeMetadata(m: ServeFormMetadata): string {
  return JSON.stringify(m);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function decodeServeMetadata(raw: string | undefined): ServeFormMetadata {
  const o = parseJsonObject(raw);
  if (!o) return {};
  const out: ServeFormMetadata = {};
  if (typeof o['channel'] === 'string' && /^[A-Z0-9]+$/.test(o['channel'])) out.channel = o['channel'];
  if (typeof o['profile'] === 'string' && NAME.test(o['profile'])) out.profile = o['profile'];
  if (typeof o['device'] === 'string' && NAME.test(o['device'])) out.device = o['device'];
  return out;
}

const option = (value: string, text: string): types.PlainTextOption => ({ value, text: plain(text) });

const CHALLENGES: types.PlainTextOption[] = [
  option('http-01', 'HTTP-01, answered by the built-in responder (port 80)'),
  option('tls-alpn-01', 'TLS-ALPN-01, answered by the built-in responder (port 443)'),
];

/** The client-ssl options for a device: what it has (filtered by what was typed) and "new from parent". */
export function clientSslOptions(paths: readonly string[], query: string): types.PlainTextOption[] {
  const q = query.trim().toLowerCase();
  const matching = paths.filter((p) => p.toLowerCase().includes(q)).slice(0, 99);
  const parent = paths.includes(DEFAULT_PARENT) ? DEFAULT_PARENT : paths[0];
  return [
    ...matching.map((p) => option(p, p)),
    ...(parent ? [option(`${NEW_PROFILE_PREFIX}${parent}`, `New profile for this certificate, from ${parent}`)] : []),
  ].slice(0, 100);
}

/** `/acme setup`, step 3: what step 2 made, said on top of the request form. */
export function setupRequestNotice(device: string): string {
  return `:white_check_mark: BIG-IP *${e(device)}* added; its connection was tested.\n*Step 3 of 3: the certificate* — the names, and the client-ssl profile that will serve them.`;
}

export function serveRequestView(opts: {
  metadata: ServeFormMetadata;
  profiles: readonly string[];
  devices: readonly string[];
  notice?: string;
  error?: string;
  /** Back from a refusal: the names as typed and the client-ssl choice, so nothing is lost. */
  names?: string;
  clientSsl?: string;
}): types.ModalView {
  const { metadata: m } = opts;
  const profileOptions = opts.profiles.map((p) => option(p, p));
  const deviceOptions = opts.devices.map((d) => option(d, d));
  const initialProfile = profileOptions.find((o) => o.value === (m.profile ?? opts.profiles[0]));
  const initialDevice = deviceOptions.find((o) => o.value === (m.device ?? opts.devices[0]));
  const blocks: types.KnownBlock[] = [
    ...(opts.notice ? [section(opts.notice)] : []),
    ...(opts.error ? [section(`:warning: ${e(opts.error)}`)] : []),
    section(
      'The names, and the BIG-IP client-ssl profile that will serve them. Before anything is ordered, new names are added as domains and each challenge is published and tested; then an approver decides, and approving issues and deploys.',
    ),
    input(SERVE_BLOCK.profile, 'CA profile', {
      type: 'static_select',
      action_id: VALUE,
      options: profileOptions,
      ...(initialProfile ? { initial_option: initialProfile } : {}),
    }),
    input(
      SERVE_BLOCK.names,
      'Names (the first is the common name)',
      textInput({ initial: opts.names, placeholder: 'www.example.com, example.com', max: 2000, multiline: true }),
      { hint: 'Separate with commas, spaces or new lines. Names that are not domains of the profile yet are added.' },
    ),
    input(SERVE_BLOCK.challenge, 'New names are validated by', {
      type: 'static_select',
      action_id: VALUE,
      options: CHALLENGES,
      initial_option: CHALLENGES[0]!,
    }),
    input(SERVE_BLOCK.device, 'BIG-IP', {
      type: 'static_select',
      action_id: VALUE,
      options: deviceOptions,
      ...(initialDevice ? { initial_option: initialDevice } : {}),
    }),
    input(
      SERVE_BLOCK.clientSsl,
      'Client-ssl profile',
      {
        type: 'external_select',
        action_id: VALUE,
        min_query_length: 0,
        placeholder: plain('Read live from the BIG-IP'),
        ...(opts.clientSsl
          ? {
              initial_option: opts.clientSsl.startsWith(NEW_PROFILE_PREFIX)
                ? option(
                    opts.clientSsl,
                    `New profile for this certificate, from ${opts.clientSsl.slice(NEW_PROFILE_PREFIX.length)}`,
                  )
                : option(opts.clientSsl, opts.clientSsl),
            }
          : {}),
      },
      { hint: 'The profile your virtual server uses; its certificate and key are switched at deploy.' },
    ),
    context('Anyone may request; an approver decides. The private key is made by this service and never shown.'),
  ];
  return modal(SERVE_REQUEST_VIEW, 'Request a certificate', blocks, {
    submit: 'Request',
    metadata: encodeServeMetadata(m),
  });
}

/** The object name for a new client-ssl profile: `acme_<common name>`, in the BIG-IP's object name rules. */
export function newProfileName(commonName: string): string {
  return `acme_${commonName.replace(/^\*\./, 'wildcard.').replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 200);
}

export function splitNames(raw: string): string[] {
  return raw.split(/[\s,;]+/).filter(Boolean);
}

export function parseServeRequest(values: StateValues): Parsed<ServeRequestInput> {
  const errors: FieldErrors = {};
  const profile = selectedOf(values, SERVE_BLOCK.profile);
  if (!profile) errors[SERVE_BLOCK.profile] = 'Choose a CA profile.';
  const names = splitNames(textOf(values, SERVE_BLOCK.names));
  if (names.length === 0) errors[SERVE_BLOCK.names] = 'Give at least one name.';
  else if (names.length > 100) errors[SERVE_BLOCK.names] = 'At most 100 names in one certificate.';
  const challenge = selectedOf(values, SERVE_BLOCK.challenge);
  if (challenge !== 'http-01' && challenge !== 'tls-alpn-01')
    errors[SERVE_BLOCK.challenge] = 'Choose how new names are validated.';
  const device = selectedOf(values, SERVE_BLOCK.device);
  if (!device) errors[SERVE_BLOCK.device] = 'Choose the BIG-IP (an admin adds one with /acme device add).';
  const picked = selectedOf(values, SERVE_BLOCK.clientSsl);
  if (!picked) errors[SERVE_BLOCK.clientSsl] = 'Choose the client-ssl profile that will serve the certificate.';
  if (Object.keys(errors).length > 0 || !profile || !device || !picked || challenge === undefined)
    return { ok: false, errors };
  const fresh = picked.startsWith(NEW_PROFILE_PREFIX);
  return {
    ok: true,
    value: {
      profile,
      names,
      challengeType: challenge as ServeRequestInput['challengeType'],
      device,
      clientSslProfile: fresh ? newProfileName(names[0]!) : picked,
      ...(fresh ? { createProfile: true, parent: picked.slice(NEW_PROFILE_PREFIX.length) } : {}),
    },
  };
}

export function serveWorkingView(names: readonly string[]): types.ModalView {
  return modal(
    `${SERVE_REQUEST_VIEW}_working`,
    'Request a certificate',
    [
      section(
        `:hourglass_flowing_sand: ${e(names.join(', '))}: adding new names, publishing and testing each challenge…`,
      ),
      context('This takes a few seconds; the form updates by itself.'),
    ],
    { close: 'Close' },
  );
}

export function serveRequestedView(r: ServeRequestResult): types.ModalView {
  const c = r.certificate;
  const names = r.names.map(
    (n) =>
      `• ${e(n.name)}: ${n.step === 'ready' ? 'already valid' : n.step === 'add' ? `added, challenge ${n.outcome}` : `challenge ${n.outcome}`}`,
  );
  return modal(
    `${SERVE_REQUEST_VIEW}_done`,
    'Certificate requested',
    [
      section(
        `:raised_hand: *${e(c.name)}* waits for an approver. ${r.deployOnIssue ? 'Approving issues it and deploys it' : 'Approving issues it; the profile deploys it after its own deploy approval'} to *${e(r.binding.deviceName)}* \`${e(r.binding.profilePath)}\`${r.binding.createProfile ? ` (new, from \`${e(r.binding.parentProfile)}\`)` : ''}.`,
      ),
      section(names.join('\n')),
      context('You will see the outcome in the approvals channel. Nothing was ordered yet.'),
    ],
    { close: 'Done' },
  );
}
