import { keyPassphraseProblem, MIN_KEY_PASSPHRASE } from '../../core/domain/validation/key-passphrase.ts';
import { fieldErrors } from './form-values.ts';
import type { types } from '@slack/bolt';
import { describeKeySpec, type KeySpec } from '../../core/domain/key-spec.ts';
import { OBJECT_NAME_PATTERN } from '../../core/domain/managed-certificate.ts';
import { isPartitionName } from '../../core/domain/partition-name.ts';
import type { RequestCertificateInput } from '../../core/issuance/certificate-service.ts';
import { clip, context, escapeMrkdwn as e, section } from '../blocks/message.ts';

/**
 * The CSR form (`/acme cert request`): partition, CA profile, common name and SANs picked from that profile's
 * valid domains, the profile's key type (fixed), an optional key passphrase and object name. Changing the
 * profile re-renders the form with its domains. Pure builders and parsers; the listeners fetch and submit.
 *
 * The name selects carry the profile in their block id, so Slack drops a selection made for another profile
 * when the form is re-rendered, and a submission says which profile its names were offered for.
 */
export const CERT_REQUEST_VIEW = 'cert_request';
export const PROFILE_BLOCK = 'cert_req_profile';
export const PROFILE_ACTION = 'cert_req_profile_pick';
export const PARTITION_BLOCK = 'cert_req_partition';
export const CN_BLOCK_PREFIX = 'cert_req_cn';
export const SANS_BLOCK_PREFIX = 'cert_req_sans';
export const PASSPHRASE_BLOCK = 'cert_req_passphrase';
export const NAME_BLOCK = 'cert_req_name';
export const VALUE_ACTION = 'value';

/** Slack's caps: 100 options per select, 75 characters per option text and 150 per value. */
const MAX_OPTIONS = 100;

export interface ProfileChoice {
  name: string;
  keySpec: KeySpec;
}

export interface CertRequestFormInput {
  profiles: ProfileChoice[];
  /** The selected profile and its valid domains; null before one is picked. */
  selected: (ProfileChoice & { domains: string[] }) | null;
  /** Values to show again (never the passphrase). */
  values?: { partition?: string; name?: string };
  /** Shown above the fields, e.g. "no profile named X". */
  notice?: string;
}

export const cnBlockId = (profile: string) => clip(`${CN_BLOCK_PREFIX}.${profile}`, 255);
export const sansBlockId = (profile: string) => clip(`${SANS_BLOCK_PREFIX}.${profile}`, 255);

const plain = (text: string) => ({ type: 'plain_text' as const, text: clip(text, 75) });
const option = (value: string) => ({ text: plain(value), value });

function textInput(
  blockId: string,
  label: string,
  opts: {
    optional?: boolean;
    initial?: string | undefined;
    placeholder?: string;
    hint?: string;
    minLength?: number;
    maxLength?: number;
  },
): types.InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    optional: opts.optional ?? false,
    ...(opts.hint ? { hint: { type: 'plain_text', text: clip(opts.hint, 2000) } } : {}),
    element: {
      type: 'plain_text_input',
      action_id: VALUE_ACTION,
      ...(opts.initial ? { initial_value: opts.initial } : {}),
      ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
      ...(opts.minLength ? { min_length: opts.minLength } : {}),
      ...(opts.maxLength ? { max_length: opts.maxLength } : {}),
    },
  };
}

/** The form; opened by the command, re-rendered (views.update) when the profile changes. */
export function certRequestView(input: CertRequestFormInput): types.ModalView {
  const { selected } = input;
  const blocks: types.KnownBlock[] = [];
  if (input.notice) blocks.push(section(`:warning: ${e(input.notice)}`));
  const profileOptions = input.profiles.slice(0, MAX_OPTIONS).map((p) => option(p.name));
  const initialProfile = selected ? profileOptions.find((o) => o.value === selected.name) : undefined;
  blocks.push({
    type: 'input',
    block_id: PROFILE_BLOCK,
    label: plain('CA profile'),
    dispatch_action: true,
    element: {
      type: 'static_select',
      action_id: PROFILE_ACTION,
      placeholder: plain('Pick the CA profile'),
      options: profileOptions,
      ...(initialProfile ? { initial_option: initialProfile } : {}),
    },
  });
  blocks.push(
    textInput(PARTITION_BLOCK, 'BIG-IP partition', { initial: input.values?.partition ?? 'Common', maxLength: 64 }),
  );

  if (!selected) {
    blocks.push(context('Pick a CA profile to see its domains.'));
  } else if (selected.domains.length === 0) {
    blocks.push(
      section(
        `:warning: Profile \`${e(selected.name)}\` has no valid domain yet. Add one (\`/acme domain add --profile ${e(selected.name)} NAME\`) and test it (\`/acme domain test NAME\`) first.`,
      ),
    );
  } else {
    const options = selected.domains.slice(0, MAX_OPTIONS).map(option);
    blocks.push({
      type: 'input',
      block_id: cnBlockId(selected.name),
      label: plain('Common name'),
      hint: plain('A valid domain of this profile'),
      element: { type: 'static_select', action_id: VALUE_ACTION, placeholder: plain('Pick the common name'), options },
    });
    blocks.push({
      type: 'input',
      block_id: sansBlockId(selected.name),
      label: plain('Subject alternative names'),
      optional: true,
      element: {
        type: 'multi_static_select',
        action_id: VALUE_ACTION,
        placeholder: plain('More names (optional)'),
        options,
      },
    });
    if (selected.domains.length > MAX_OPTIONS) {
      blocks.push(
        context(
          `Showing the first ${MAX_OPTIONS} of ${selected.domains.length} valid domains; request the others in a second request.`,
        ),
      );
    }
    blocks.push(context(`*Key:* ${describeKeySpec(selected.keySpec)} (the profile's key type; fixed)`));
  }

  blocks.push(
    textInput(PASSPHRASE_BLOCK, 'Key passphrase', {
      optional: true,
      minLength: MIN_KEY_PASSPHRASE,
      maxLength: 256,
      hint: 'Optional: encrypts the private key on the BIG-IP. Slack shows it while you type; the service stores it encrypted and never shows it again.',
    }),
    textInput(NAME_BLOCK, 'BIG-IP object name', {
      optional: true,
      initial: input.values?.name,
      placeholder: 'Derived from the common name when empty',
      maxLength: 128,
    }),
  );
  return {
    type: 'modal',
    callback_id: CERT_REQUEST_VIEW,
    title: plain('Request a certificate'),
    submit: plain('Request'),
    close: plain('Cancel'),
    blocks,
  };
}

/** The form after a good submission: what was asked, and that an approver decides. */
export function certRequestSubmittedView(r: {
  name: string;
  names: string[];
  profileName: string;
  partition: string;
  keySpec: KeySpec;
}): types.ModalView {
  return {
    type: 'modal',
    callback_id: `${CERT_REQUEST_VIEW}_done`,
    title: plain('Request a certificate'),
    close: plain('Done'),
    blocks: [
      section(':hourglass: *Requested — waiting for an approver*'),
      {
        ...section(`*${e(r.name)}*`),
        fields: [
          { type: 'mrkdwn', text: `*Names:*\n${clip(r.names.map(e).join(', '), 1900)}` },
          { type: 'mrkdwn', text: `*CA profile:*\n\`${e(r.profileName)}\`` },
          { type: 'mrkdwn', text: `*Partition:*\n\`${e(r.partition)}\`` },
          { type: 'mrkdwn', text: `*Key:*\n${describeKeySpec(r.keySpec)}` },
        ],
      },
      context(
        `An approver decides it (\`/acme approvals\`); once approved it is issued. Follow it with \`/acme cert show ${e(r.name)}\`.`,
      ),
    ],
  };
}

type StateValues = Record<
  string,
  Record<
    string,
    | { value?: string | null; selected_option?: { value: string } | null; selected_options?: { value: string }[] }
    | undefined
  >
>;

/** What a submission (or a block_actions view state) holds, by field, with the block ids it came from. */
export interface CertRequestFields {
  profile: string | null;
  partition: string;
  /** The profile the name selects were rendered for (from their block id), and those block ids. */
  namesProfile: string | null;
  cnBlock: string | null;
  sansBlock: string | null;
  commonName: string | null;
  sans: string[];
  passphrase: string | null;
  name: string | null;
}

const text = (v: string | null | undefined) => (typeof v === 'string' && v.trim() !== '' ? v : null);

export function readCertRequest(values: StateValues): CertRequestFields {
  const get = (block: string) => values[block]?.[VALUE_ACTION];
  const cnBlock = Object.keys(values).find((k) => k.startsWith(`${CN_BLOCK_PREFIX}.`)) ?? null;
  const sansBlock = Object.keys(values).find((k) => k.startsWith(`${SANS_BLOCK_PREFIX}.`)) ?? null;
  return {
    profile: values[PROFILE_BLOCK]?.[PROFILE_ACTION]?.selected_option?.value ?? null,
    partition: text(get(PARTITION_BLOCK)?.value)?.trim() ?? 'Common',
    namesProfile: cnBlock ? cnBlock.slice(CN_BLOCK_PREFIX.length + 1) : null,
    cnBlock,
    sansBlock,
    commonName: cnBlock ? (get(cnBlock)?.selected_option?.value ?? null) : null,
    sans: sansBlock ? (get(sansBlock)?.selected_options ?? []).map((o) => o.value) : [],
    // Kept exactly as typed (spaces are part of a passphrase); empty means none.
    passphrase: text(get(PASSPHRASE_BLOCK)?.value),
    name: text(get(NAME_BLOCK)?.value)?.trim() ?? null,
  };
}

export type CertRequestCheck =
  | { ok: true; input: RequestCertificateInput }
  | { ok: false; errors: Record<string, string> };

/**
 * Checks a submission against the profile as the server sees it now (`profile` null: no such profile) and
 * its valid domains. Errors are keyed by the input block they belong to.
 */
export function checkCertRequest(
  f: CertRequestFields,
  profile: (ProfileChoice & { domains: string[] }) | null,
): CertRequestCheck {
  const errors: Record<string, string> = {};
  if (!f.profile) errors[PROFILE_BLOCK] = 'Pick a CA profile.';
  else if (!profile)
    errors[PROFILE_BLOCK] = `There is no CA profile named "${clip(f.profile, 100)}" any more; pick another.`;
  if (!isPartitionName(f.partition)) {
    errors[PARTITION_BLOCK] =
      'A BIG-IP partition name starts with a letter and has only letters, digits, ".", "_" or "-" (at most 64).';
  }
  if (profile && !errors[PROFILE_BLOCK]) {
    const valid = new Set(profile.domains);
    const stale = f.cnBlock !== null && f.namesProfile !== profile.name;
    if (!f.cnBlock) {
      errors[PROFILE_BLOCK] =
        profile.domains.length === 0
          ? `Profile "${profile.name}" has no valid domain yet.`
          : 'Pick the profile again to load its domains.';
    } else if (stale) {
      errors[f.cnBlock] =
        `These names were offered for profile "${clip(f.namesProfile ?? '', 100)}"; pick the profile and names again.`;
    } else if (!f.commonName) {
      errors[f.cnBlock] = 'Pick the common name.';
    } else if (!valid.has(f.commonName)) {
      errors[f.cnBlock] = `"${clip(f.commonName, 100)}" is not a valid domain of profile "${profile.name}".`;
    }
    const foreign = f.sans.filter((s) => !valid.has(s));
    if (foreign.length > 0 && f.sansBlock && !stale)
      errors[f.sansBlock] = `Not valid domains of profile "${profile.name}": ${clip(foreign.join(', '), 200)}.`;
  }
  const passphraseProblem = keyPassphraseProblem(f.passphrase);
  if (passphraseProblem)
    Object.assign(errors, fieldErrors({ passphrase: passphraseProblem }, { passphrase: PASSPHRASE_BLOCK }));
  if (f.name !== null && !OBJECT_NAME_PATTERN.test(f.name)) {
    errors[NAME_BLOCK] =
      'An object name starts with a letter and has only letters, digits, ".", "_" or "-" (at most 128).';
  }
  if (Object.keys(errors).length > 0 || !profile || !f.commonName) return { ok: false, errors };
  return {
    ok: true,
    input: {
      profile: profile.name,
      partition: f.partition,
      commonName: f.commonName,
      sans: f.sans.filter((s) => s !== f.commonName),
      keySpec: profile.keySpec,
      ...(f.passphrase !== null ? { passphrase: f.passphrase } : {}),
      ...(f.name !== null ? { name: f.name } : {}),
    },
  };
}

/**
 * Which field a core refusal of the request belongs to (it validates again, and knows about name clashes),
 * by its code and the field it names; anything else goes on the profile field.
 */
export function coreErrorBlock(err: { code: string; message: string }, f: CertRequestFields): string {
  const m = err.message;
  if (/partition/i.test(m)) return PARTITION_BLOCK;
  if (/passphrase/i.test(m)) return PASSPHRASE_BLOCK;
  if (/object name/i.test(m) || (err.code === 'conflict' && /already exists/.test(m))) return NAME_BLOCK;
  if (err.code === 'domain_foreign' || err.code === 'domain_invalid') {
    const onCn = f.commonName !== null && m.includes(`"${f.commonName}"`);
    if (!onCn && f.sansBlock) return f.sansBlock;
    if (f.cnBlock) return f.cnBlock;
  }
  return PROFILE_BLOCK;
}
