import type { types } from '@slack/bolt';
import type { BindingView } from '../../core/services/binding-service.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e, header, MAX_BLOCKS, section } from './message.ts';

/**
 * `/acme binding list [CERT]` and what each binding was last verified to serve. The "served" facts are
 * rendered by {@link lastVerifiedFacts} only, so a new fact (e.g. a TLS handshake check) is one more entry there.
 */
export const BINDING_REMOVE_ACTION = 'binding_remove';
export const BINDING_ADD_ACTION = 'binding_add_open';

const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');

/** Short fingerprint for reading: the first 8 byte pairs of the SHA-256, as BIG-IP shows it (`AB:CD:…`). */
function shortFingerprint(fp: string): string {
  const pairs = fp.replace(/^sha256\//i, '').split(':');
  return pairs.length > 8 ? `${pairs.slice(0, 8).join(':')}…` : fp;
}

/**
 * What the profile was last verified to serve, as labelled facts: the serial and fingerprint the last
 * successful deploy verified on the device, and when; then what a TLS handshake with a virtual server using
 * the profile presented at the end of that deploy (none when no virtual server uses it). Empty before the
 * first deploy.
 */
export function lastVerifiedFacts(
  b: Pick<
    BindingView,
    'deployedSerial' | 'deployedFingerprint' | 'deployedAt' | 'deployedNotAfter' | 'servedSerial' | 'servedVerifiedAt'
  >,
): { label: string; value: string }[] {
  if (!b.deployedSerial && !b.deployedFingerprint && !b.servedSerial) return [];
  const facts: { label: string; value: string }[] = [];
  if (b.deployedSerial) facts.push({ label: 'serial', value: `\`${e(b.deployedSerial)}\`` });
  if (b.deployedFingerprint)
    facts.push({ label: 'SHA-256', value: `\`${e(shortFingerprint(b.deployedFingerprint))}\`` });
  if (b.deployedNotAfter) facts.push({ label: 'expires', value: when(b.deployedNotAfter) });
  if (b.deployedAt) facts.push({ label: 'verified', value: when(b.deployedAt) });
  if (b.servedSerial)
    facts.push({
      label: 'served to clients',
      value: `${b.servedSerial === b.deployedSerial ? 'the same serial' : `serial \`${e(b.servedSerial)}\``} (TLS handshake ${when(b.servedVerifiedAt)})`,
    });
  return facts;
}

/** One line: "serial `…` · SHA-256 `…` · verified 2026-…", or "not deployed yet". */
export function lastVerifiedText(b: Parameters<typeof lastVerifiedFacts>[0]): string {
  const facts = lastVerifiedFacts(b);
  if (facts.length === 0) return 'not deployed yet';
  return facts.map((f) => `${f.label} ${f.value}`).join(' · ');
}

/** The value of a Remove button: the binding's id, reloaded and re-checked by the handler. */
function removeButton(b: BindingView): types.Button {
  return {
    type: 'button',
    action_id: BINDING_REMOVE_ACTION,
    text: { type: 'plain_text', text: 'Remove' },
    value: b.id,
    style: 'danger',
    confirm: {
      title: { type: 'plain_text', text: 'Remove binding?' },
      text: {
        type: 'mrkdwn',
        text: clip(
          `Unbind *${e(b.certificateName)}* from \`${e(b.profilePath)}\` on *${e(b.deviceName)}*? The profile keeps serving what it has.`,
          300,
        ),
      },
      confirm: { type: 'plain_text', text: 'Remove' },
      deny: { type: 'plain_text', text: 'Keep' },
    },
  };
}

/** `/acme binding list [CERT]`: one section per binding; admins get a Remove button on each and an Add button. */
export function bindingListMessage(
  bindings: BindingView[],
  opts: { certificate?: string | undefined; admin: boolean },
): BotMessage {
  const title = opts.certificate ? `Bindings of ${opts.certificate}` : 'Bindings';
  const head: types.KnownBlock[] = [
    header(title),
    context('What each client-ssl profile was last verified to serve (by the last successful deploy).'),
  ];
  const tail: types.KnownBlock[] = [];
  if (opts.admin && opts.certificate)
    tail.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: BINDING_ADD_ACTION,
          text: { type: 'plain_text', text: 'Add binding' },
          value: clip(opts.certificate, 200),
        },
      ],
    });
  if (bindings.length === 0) {
    const empty = opts.certificate
      ? `*${e(opts.certificate)}* is bound to no BIG-IP profile yet (\`/acme binding add ${e(opts.certificate)}\`).`
      : 'No certificate is bound to a BIG-IP profile yet (`/acme binding add CERT`).';
    return { text: `${title}: none`, blocks: [...head, section(empty), ...tail] };
  }
  const room = MAX_BLOCKS - head.length - tail.length;
  const shown = bindings.length <= room ? bindings : bindings.slice(0, room - 1);
  const rows: types.KnownBlock[] = shown.map((b) => {
    const line = `*${e(b.certificateName)}* → *${e(b.deviceName)}* \`${e(b.profilePath)}\`${b.createProfile ? ` (created from \`${e(b.parentProfile)}\` if missing)` : ''}\n${lastVerifiedText(b)}`;
    return opts.admin ? { ...section(line), accessory: removeButton(b) } : section(line);
  });
  if (shown.length < bindings.length) rows.push(context(`… and ${bindings.length - shown.length} more`));
  return { text: `${title}: ${bindings.length}`, blocks: [...head, ...rows, ...tail] };
}
