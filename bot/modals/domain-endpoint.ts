import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import type { EndpointInput } from '../../core/challenges/domain-endpoint-service.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import { encodeDomainRef } from '../blocks/challenge.ts';
import { clip, escapeMrkdwn as e } from '../blocks/message.ts';

/**
 * `/acme domain endpoint NAME`: the seed's *API End Point*, *user name*, *password* for one domain, or the
 * built-in responder's challenge-hook, or none. The password input is always empty when the modal is
 * built (Slack has no password element, so it is never pre-filled and never echoed back).
 */
export const DOMAIN_ENDPOINT_VIEW = 'domain_endpoint';
export const ENDPOINT_BLOCKS = {
  mode: 'endpoint_mode',
  url: 'endpoint_url',
  username: 'endpoint_username',
  password: 'endpoint_password',
} as const;
export const ENDPOINT_ACTIONS = { mode: 'mode', url: 'url', username: 'username', password: 'password' } as const;

export type EndpointMode = 'set' | 'builtin' | 'clear';

/** The view's state as Slack submits it (the parts read here). */
export type ViewValues = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_option?: { value: string } | null; selected_options?: { value: string }[] }
  >
>;

const text = (values: ViewValues, block: string, action: string) => (values[block]?.[action]?.value ?? '').trim();
const selected = (values: ViewValues, block: string, action: string) =>
  values[block]?.[action]?.selected_option?.value ?? null;

export type EndpointField = 'url' | 'username' | 'password';

/**
 * The checks `DomainService.setEndpoint` makes, made before anything is written: the add form creates
 * domains first and sets their endpoint after, so an endpoint the core would refuse must be refused here.
 * `required: false` accepts all three empty (no endpoint); some but not all filled is an error either way.
 */
export function validateEndpointFields(
  raw: { url: string; username: string; password: string },
  opts: { required: boolean },
): { ok: true; value: EndpointInput | null } | { ok: false; errors: Partial<Record<EndpointField, string>> } {
  const errors: Partial<Record<EndpointField, string>> = {};
  const filled = [raw.url, raw.username, raw.password].filter((v) => v !== '').length;
  if (filled === 0 && !opts.required) return { ok: true, value: null };
  if (raw.url === '') errors.url = 'Give the endpoint URL (or leave all three endpoint fields empty).';
  else {
    let url: URL | null = null;
    try {
      url = new URL(raw.url);
    } catch {
      errors.url = 'Not a URL; give one like https://web.example.com/acme-challenge';
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:')
      errors.url = 'The endpoint URL must start with https:// or http://';
    else if (url && (url.username || url.password))
      errors.url = 'Put the user name and password in their own fields, not in the URL.';
  }
  if (raw.username === '') errors.username = 'Give the user name the endpoint expects.';
  else if (!/^[^\s:]{1,64}$/.test(raw.username))
    errors.username = 'The user name must be 1-64 characters without spaces or ":".';
  if (raw.password === '') errors.password = 'Give the endpoint password.';
  else if (raw.password.length < 12) errors.password = 'The endpoint password must be at least 12 characters.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { url: raw.url, username: raw.username, password: raw.password } };
}

const option = (value: EndpointMode, label: string, description: string): types.PlainTextOption => ({
  value,
  text: { type: 'plain_text', text: label },
  description: { type: 'plain_text', text: clip(description, 75) },
});

function textInput(
  blockId: string,
  actionId: string,
  label: string,
  opts: { initial?: string | null; placeholder?: string; hint?: string; max?: number },
): types.InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: { type: 'plain_text', text: label },
    ...(opts.hint ? { hint: { type: 'plain_text', text: opts.hint } } : {}),
    element: {
      type: 'plain_text_input',
      action_id: actionId,
      ...(opts.initial ? { initial_value: opts.initial } : {}),
      ...(opts.placeholder ? { placeholder: { type: 'plain_text', text: opts.placeholder } } : {}),
      ...(opts.max ? { max_length: opts.max } : {}),
    },
  };
}

/** The URL / user name / password inputs, shared with the add form (block ids given by the caller). */
export function endpointInputs(
  ids: { url: string; username: string; password: string },
  current?: { url: string | null; username: string | null },
): types.InputBlock[] {
  return [
    textInput(ids.url, ENDPOINT_ACTIONS.url, 'Endpoint URL', {
      initial: current?.url ?? null,
      placeholder: 'https://web.example.com/acme-challenge',
      max: 2000,
    }),
    textInput(ids.username, ENDPOINT_ACTIONS.username, 'User name', { initial: current?.username ?? null, max: 64 }),
    textInput(ids.password, ENDPOINT_ACTIONS.password, 'Password', {
      hint: 'At least 12 characters. Stored encrypted; never shown again.',
      max: 1000,
    }),
  ];
}

export function domainEndpointModal(
  domain: Pick<DomainView, 'name' | 'profileName' | 'challengeType' | 'endpointUrl' | 'endpointUsername'>,
  opts: { builtinAvailable: boolean },
): types.ModalView {
  const current = domain.endpointUrl
    ? `Now: \`${e(domain.endpointUrl)}\` as \`${e(domain.endpointUsername ?? '?')}\``
    : 'Now: no endpoint (the challenge content is published by hand).';
  const options = [
    option('set', 'Use this endpoint', 'The URL, user name and password below'),
    ...(opts.builtinAvailable
      ? [option('builtin', 'Use the built-in responder', "bigip-acme's own challenge-hook, generated credentials")]
      : []),
    option('clear', 'No endpoint', 'Publish the challenge content by hand'),
  ];
  return {
    type: 'modal',
    callback_id: DOMAIN_ENDPOINT_VIEW,
    // The same opaque domain reference the challenge message's buttons carry.
    private_metadata: encodeDomainRef({ name: domain.name, profile: domain.profileName }),
    title: { type: 'plain_text', text: 'Domain endpoint' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            `*${e(domain.name)}*  ·  ${e(domain.challengeType)}  ·  profile \`${e(domain.profileName)}\`\n${current}`,
            3000,
          ),
        },
      },
      {
        type: 'input',
        block_id: ENDPOINT_BLOCKS.mode,
        label: { type: 'plain_text', text: 'Publish the challenge' },
        element: { type: 'radio_buttons', action_id: ENDPOINT_ACTIONS.mode, options, initial_option: options[0]! },
      },
      ...endpointInputs(ENDPOINT_BLOCKS, { url: domain.endpointUrl, username: domain.endpointUsername }),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: '*Deploy & Test* POSTs the challenge content as JSON to the endpoint with HTTP basic auth, then runs *Test Connection*.',
          },
        ],
      },
    ],
  };
}

export type EndpointChoice = { mode: 'set'; endpoint: EndpointInput } | { mode: 'builtin' } | { mode: 'clear' };

/** The submitted form, checked; errors are keyed by input block id, ready for `response_action: errors`. */
export function readEndpointForm(
  values: ViewValues,
  opts: { builtinAvailable: boolean },
): { ok: true; choice: EndpointChoice } | { ok: false; errors: Record<string, string> } {
  const mode = selected(values, ENDPOINT_BLOCKS.mode, ENDPOINT_ACTIONS.mode) ?? 'set';
  if (mode === 'clear') return { ok: true, choice: { mode: 'clear' } };
  if (mode === 'builtin') {
    if (!opts.builtinAvailable)
      return {
        ok: false,
        errors: {
          [ENDPOINT_BLOCKS.mode]: 'The built-in responder URL is not configured (RESPONDER_URL); give an endpoint.',
        },
      };
    return { ok: true, choice: { mode: 'builtin' } };
  }
  if (mode !== 'set')
    return { ok: false, errors: { [ENDPOINT_BLOCKS.mode]: 'Choose how the challenge is published.' } };
  const raw = {
    url: text(values, ENDPOINT_BLOCKS.url, ENDPOINT_ACTIONS.url),
    username: text(values, ENDPOINT_BLOCKS.username, ENDPOINT_ACTIONS.username),
    // Passwords are taken as typed: leading or trailing spaces may be part of them.
    password: values[ENDPOINT_BLOCKS.password]?.[ENDPOINT_ACTIONS.password]?.value ?? '',
  };
  const checked = validateEndpointFields(raw, { required: true });
  if (!checked.ok)
    return {
      ok: false,
      errors: Object.fromEntries(
        Object.entries(checked.errors).map(([f, m]) => [ENDPOINT_BLOCKS[f as EndpointField], m]),
      ),
    };
  return { ok: true, choice: { mode: 'set', endpoint: checked.value! } };
}

/** Which input a core refusal of setEndpoint belongs to (its messages name the field). */
export function endpointErrorBlock(
  message: string,
  ids: { url: string; username: string; password: string },
  fallback: string,
): string {
  if (/password/i.test(message)) return ids.password;
  if (/user name/i.test(message)) return ids.username;
  if (/endpoint "|URL/i.test(message)) return ids.url;
  return fallback;
}

/** What the modal turns into once saved: a plain confirmation, never the password. */
export function endpointSavedView(summary: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: `${DOMAIN_ENDPOINT_VIEW}_done`,
    title: { type: 'plain_text', text: 'Domain endpoint' },
    close: { type: 'plain_text', text: 'Done' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(slackText(summary), 3000) } }],
  };
}
