import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import { CHALLENGE_TYPES, type ChallengeType, isChallengeType } from '../../core/domain/challenge-type.ts';
import { normalizeDomainName } from '../../core/domain/domain-name.ts';
import { isCoreError } from '../../core/errors.ts';
import type { EndpointInput } from '../../core/challenges/domain-endpoint-service.ts';
import { clip, escapeMrkdwn as e } from '../blocks/message.ts';
import { type EndpointField, endpointInputs, type ViewValues, validateEndpointFields } from './domain-endpoint.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * `/acme domain add`: profile, names, challenge type, and optionally where the challenge is published
 * (an endpoint, or the built-in responder). Checked here, pure, before the core is called: the core's add
 * talks to the CA, so the listener acks with a "working" view first and anything it can refuse inline must
 * be refused before that.
 */
export const DOMAIN_ADD_VIEW = 'domain_add';
export const ADD_BLOCKS = {
  profile: 'domain_add_profile',
  names: 'domain_add_names',
  type: 'domain_add_type',
  url: 'domain_add_endpoint_url',
  username: 'domain_add_endpoint_username',
  password: 'domain_add_endpoint_password',
  builtin: 'domain_add_builtin',
} as const;
export const ADD_ACTIONS = { profile: 'profile', names: 'names', type: 'type', builtin: 'builtin' } as const;
export const BUILTIN_OPTION = 'builtin';

/** One form adds at most this many: each is a CA order and a message of its own. */
export const MAX_NAMES = 25;
/** Slack's cap on a static select's options. */
const MAX_OPTIONS = 100;

const TYPE_TEXT: Record<ChallengeType, string> = {
  'http-01': 'HTTP-01 (a file on the web server)',
  'dns-01': 'DNS-01 (a TXT record; needed for wildcards)',
  'tls-alpn-01': 'TLS-ALPN-01 (a certificate on port 443)',
};

/** Where the result goes: the channel the command ran in (a view submission has no response_url). */
export interface AddMetadata {
  channel: string;
}

export function encodeAddMetadata(m: AddMetadata): string {
  return JSON.stringify({ c: m.channel });
}

export function decodeAddMetadata(raw: string | undefined): AddMetadata | null {
  try {
    const v = JSON.parse(raw ?? '') as unknown;
    if (
      typeof v === 'object' &&
      v !== null &&
      typeof (v as Record<string, unknown>)['c'] === 'string' &&
      (v as Record<string, string>)['c'] !== ''
    ) {
      return { channel: (v as Record<string, string>)['c']! };
    }
  } catch {
    // not ours
  }
  return null;
}

const plainOption = (value: string, label: string): types.PlainTextOption => ({
  value,
  text: { type: 'plain_text', text: clip(label, 75) },
});

export function domainAddModal(opts: {
  profiles: string[];
  profile?: string | undefined;
  names: string[];
  builtinAvailable: boolean;
  channel: string;
}): types.ModalView {
  const profileOptions = opts.profiles.slice(0, MAX_OPTIONS).map((p) => plainOption(p, p));
  const initialProfile = profileOptions.find((o) => o.value === opts.profile);
  const typeOptions = CHALLENGE_TYPES.map((t) => plainOption(t, TYPE_TEXT[t]));
  const blocks: types.KnownBlock[] = [
    {
      type: 'input',
      block_id: ADD_BLOCKS.profile,
      label: { type: 'plain_text', text: 'CA profile' },
      element: {
        type: 'static_select',
        action_id: ADD_ACTIONS.profile,
        placeholder: { type: 'plain_text', text: 'Choose a profile' },
        options: profileOptions,
        ...(initialProfile ? { initial_option: initialProfile } : {}),
      },
    },
    {
      type: 'input',
      block_id: ADD_BLOCKS.names,
      label: { type: 'plain_text', text: 'Domain names' },
      hint: {
        type: 'plain_text',
        text: `One per line, or separated by commas or spaces; at most ${MAX_NAMES}. Wildcards (*.example.com) need DNS-01.`,
      },
      element: {
        type: 'plain_text_input',
        action_id: ADD_ACTIONS.names,
        multiline: true,
        max_length: 3000,
        placeholder: { type: 'plain_text', text: 'www.example.com' },
        ...(opts.names.length > 0 ? { initial_value: clip(opts.names.join('\n'), 3000) } : {}),
      },
    },
    {
      type: 'input',
      block_id: ADD_BLOCKS.type,
      label: { type: 'plain_text', text: 'Challenge type' },
      element: {
        type: 'static_select',
        action_id: ADD_ACTIONS.type,
        options: typeOptions,
        initial_option: typeOptions[0]!,
      },
    },
    { type: 'divider' },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '*Automated challenges* (optional): a web server endpoint that takes the challenge POST, with its user name and password. All three, or none.',
      },
    },
    ...endpointInputs(ADD_BLOCKS),
  ];
  if (opts.builtinAvailable) {
    blocks.push({
      type: 'input',
      block_id: ADD_BLOCKS.builtin,
      optional: true,
      label: { type: 'plain_text', text: 'Built-in responder' },
      element: {
        type: 'checkboxes',
        action_id: ADD_ACTIONS.builtin,
        options: [
          {
            value: BUILTIN_OPTION,
            text: { type: 'plain_text', text: 'Use the built-in responder endpoint' },
            description: { type: 'plain_text', text: "bigip-acme's challenge-hook, with generated credentials" },
          },
        ],
      },
    });
  }
  return {
    type: 'modal',
    callback_id: DOMAIN_ADD_VIEW,
    private_metadata: encodeAddMetadata({ channel: opts.channel }),
    title: { type: 'plain_text', text: 'Add domains' },
    submit: { type: 'plain_text', text: 'Add' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** Names as people type them: one per line, or separated by commas, semicolons or spaces. */
export function splitNames(input: string): string[] {
  return input
    .split(/[\s,;]+/)
    .map((n) => n.trim())
    .filter(Boolean);
}

export interface DomainAddInput {
  profile: string;
  /** Normalized (lower-case ASCII, no trailing dot), duplicates removed, in the order typed. */
  names: string[];
  challengeType: ChallengeType;
  endpoint: { kind: 'none' } | { kind: 'builtin' } | { kind: 'custom'; input: EndpointInput };
}

/** The submitted form, checked; errors keyed by input block id, ready for `response_action: errors`. */
export function readDomainAddForm(
  values: ViewValues,
  opts: { builtinAvailable: boolean },
): { ok: true; value: DomainAddInput } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const profile = values[ADD_BLOCKS.profile]?.[ADD_ACTIONS.profile]?.selected_option?.value ?? '';
  if (profile === '') errors[ADD_BLOCKS.profile] = 'Choose a CA profile.';

  const type = values[ADD_BLOCKS.type]?.[ADD_ACTIONS.type]?.selected_option?.value ?? 'http-01';
  let challengeType: ChallengeType = 'http-01';
  if (isChallengeType(type)) challengeType = type;
  else errors[ADD_BLOCKS.type] = 'Choose http-01, dns-01 or tls-alpn-01.';

  const typed = splitNames(values[ADD_BLOCKS.names]?.[ADD_ACTIONS.names]?.value ?? '');
  const names: string[] = [];
  const bad: string[] = [];
  for (const name of typed) {
    try {
      const n = normalizeDomainName(name, challengeType);
      if (!names.includes(n)) names.push(n);
    } catch (err) {
      bad.push(isCoreError(err) ? err.message : `${JSON.stringify(name)}: not a domain name`);
    }
  }
  if (typed.length === 0) errors[ADD_BLOCKS.names] = 'Give at least one domain name.';
  else if (bad.length > 0)
    errors[ADD_BLOCKS.names] = clip(
      bad.slice(0, 3).join('; ') + (bad.length > 3 ? `; and ${bad.length - 3} more` : ''),
      500,
    );
  else if (names.length > MAX_NAMES)
    errors[ADD_BLOCKS.names] =
      `At most ${MAX_NAMES} names per form (you gave ${names.length}); add the rest in another round.`;

  const builtin = (values[ADD_BLOCKS.builtin]?.[ADD_ACTIONS.builtin]?.selected_options ?? []).some(
    (o) => o.value === BUILTIN_OPTION,
  );
  const raw = {
    url: (values[ADD_BLOCKS.url]?.url?.value ?? '').trim(),
    username: (values[ADD_BLOCKS.username]?.username?.value ?? '').trim(),
    // Passwords are taken as typed: leading or trailing spaces may be part of them.
    password: values[ADD_BLOCKS.password]?.password?.value ?? '',
  };
  let endpoint: DomainAddInput['endpoint'] = { kind: 'none' };
  const anyField = raw.url !== '' || raw.username !== '' || raw.password !== '';
  if (builtin && !opts.builtinAvailable)
    errors[ADD_BLOCKS.builtin] = 'The built-in responder URL is not configured (RESPONDER_URL).';
  else if (builtin && anyField)
    errors[ADD_BLOCKS.builtin] = 'Either the built-in responder or an endpoint below, not both.';
  else if (builtin) endpoint = { kind: 'builtin' };
  else {
    const checked = validateEndpointFields(raw, { required: false });
    if (!checked.ok) {
      for (const [field, message] of Object.entries(checked.errors))
        errors[ADD_BLOCKS[field as EndpointField]] = message;
    } else if (checked.value) endpoint = { kind: 'custom', input: checked.value };
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { profile, names, challengeType, endpoint } };
}

function infoView(title: string, mrkdwn: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: `${DOMAIN_ADD_VIEW}_status`,
    title: { type: 'plain_text', text: title },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(slackText(mrkdwn), 3000) } }],
  };
}

/** The modal while the CA is asked for challenges; `progress` is the core's latest line. */
export function addingView(input: Pick<DomainAddInput, 'profile' | 'names'>, progress?: string): types.ModalView {
  const n = input.names.length;
  const what = `:hourglass_flowing_sand: Adding ${n} domain${n === 1 ? '' : 's'} to profile \`${e(input.profile)}\`…`;
  return infoView(
    'Adding domains',
    `${what}\n${progress ? e(progress) : 'Asking the CA for challenges.'}\nYou can close this; the challenge content is posted when it is ready.`,
  );
}

export function addedView(opts: {
  profile: string;
  names: string[];
  where: string | null;
  problems: string[];
}): types.ModalView {
  const n = opts.names.length;
  const lines = [
    `:white_check_mark: Added ${n} domain${n === 1 ? '' : 's'} to profile \`${e(opts.profile)}\`: ${opts.names.map((x) => `\`${e(x)}\``).join(', ')}`,
  ];
  lines.push(
    opts.where
      ? `Their challenge content is in ${opts.where}.`
      : `The challenge content could not be posted in Slack; see it with ${slackCommand(['domain', 'show', 'NAME'])}.`,
  );
  for (const p of opts.problems) lines.push(`:warning: ${e(p)}`);
  return infoView('Domains added', lines.join('\n'));
}

export function addFailedView(message: string): types.ModalView {
  return infoView(
    'Adding domains failed',
    `:warning: ${e(message)}\nDomains the message lists as added before the failure were kept; nothing else was created.`,
  );
}
