import type { types } from '@slack/bolt';
import type { Deployment } from '../../core/domain/deployment.ts';
import { describeKeySpec } from '../../core/domain/key-spec.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { BindingView } from '../../core/services/binding-service.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { DeployReport } from '../../core/deploy/deploy-service.ts';
import { actorMention } from './approval.ts';
import { lastVerifiedText } from './bindings.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e, header, MAX_BLOCKS, section } from './message.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * `/acme cert show|renew|deploy`: one certificate in detail, and the progress and outcome of renewing or
 * deploying. Built from named public fields of the core's views only (never a record wholesale).
 */
const DAY_MS = 86_400_000;

/** The Deploy button's action id; its value is the certificate's name (the handler re-checks everything). */
export const DEPLOY_ACTION = 'cert_deploy_now';

/** "Deploy" for an issued certificate with bindings: the same path as `/acme cert deploy NAME` (admins). */
export function deployActions(certificate: string, bindings: number): types.ActionsBlock {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: DEPLOY_ACTION,
        text: { type: 'plain_text', text: 'Deploy' },
        value: clip(certificate, 200),
        style: 'primary',
        confirm: {
          title: { type: 'plain_text', text: 'Deploy now?' },
          text: {
            type: 'mrkdwn',
            text: clip(
              `Deploy *${e(certificate)}* to its ${bindings} bound BIG-IP profile${bindings === 1 ? '' : 's'} now?`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Deploy' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  };
}
const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');
const STATE_EMOJI: Record<string, string> = {
  issued: ':large_green_circle:',
  failed: ':red_circle:',
  awaiting_challenge: ':large_orange_circle:',
};

/** "expires 2026-01-01 00:00 UTC (12 days left)" / "(expired 3 days ago)". */
export function expiryText(notAfter: Date | null, now: Date): string {
  if (!notAfter) return 'not issued yet';
  const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const left =
    days >= 0 ? `${days} day${days === 1 ? '' : 's'} left` : `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  return `${when(notAfter)} (${left})`;
}

export interface CertificateDetail {
  cert: CertificateView;
  bindings: BindingView[];
  /** Newest first. */
  deployments: (Deployment & { deviceName: string })[];
  /** Approvals of this certificate still waiting for a decision. */
  pending: ApprovalView[];
  now: Date;
}

const MAX_BINDINGS = 20;
const MAX_DEPLOYMENTS = 5;

/** `/acme cert show NAME`. */
export function certificateDetailMessage(d: CertificateDetail): BotMessage {
  const c = d.cert;
  const names = [c.commonName, ...c.sans];
  const fields = [
    `*State:*\n${STATE_EMOJI[c.state] ?? ':white_circle:'} ${e(c.state)}`,
    `*CA profile:*\n\`${e(c.profileName)}\``,
    `*Serial:*\n${c.serial ? `\`${e(c.serial)}\`` : '-'}`,
    `*Expires:*\n${expiryText(c.notAfter, d.now)}`,
    `*Partition:*\n\`${e(c.partition)}\``,
    `*Key:*\n${describeKeySpec(c.keySpec)}`,
  ];
  if (c.renewAt) fields.push(`*Renews:*\n${when(c.renewAt)}`);
  if (c.issuer) fields.push(`*Issuer:*\n${e(clip(c.issuer, 200))}`);
  if (c.revokedSerial) {
    const what = `${e(c.revocationReason ?? '?')}, ${when(c.revokedAt)} by ${e(c.revokedBy ?? '?')}`;
    fields.push(
      c.revokedSerial === c.serial
        ? `*Revoked:*\n:no_entry: ${what}`
        : `*Previous serial revoked:*\n\`${e(c.revokedSerial)}\` (${what})`,
    );
  }
  const blocks: types.KnownBlock[] = [
    header(`Certificate ${c.name}`),
    {
      ...section(`*Names:* ${clip(names.map(e).join(', '), 450)}`),
      fields: fields.map((text) => ({ type: 'mrkdwn' as const, text })),
    },
  ];
  // The renewal and deploy fields `cert show` prints too, from the same view.
  const renewal: string[] = [];
  if (c.renewalState) renewal.push(`*Renewal in flight:*\n${e(c.renewalState)} since ${when(c.renewalStartedAt)}`);
  if (c.failedAttempts > 0) renewal.push(`*Failed attempts:*\n${c.failedAttempts}`);
  if (c.nextAttemptAt && (c.failedAttempts > 0 || c.renewalState))
    renewal.push(`*Next attempt:*\n${when(c.nextAttemptAt)}`);
  if (c.pendingDeploy) {
    const d = c.pendingDeploy;
    const why =
      d.reason === 'expires_first'
        ? 'what is served expires first'
        : d.reason === 'served_revoked'
          ? 'what is served was revoked'
          : 'profile deploy time';
    renewal.push(
      `*Deploy pending:*\n${d.due ? 'due since ' : ''}${when(d.at)} (${why}, ${d.bindings} binding${d.bindings === 1 ? '' : 's'})`,
    );
  }
  if (renewal.length > 0)
    blocks.push({
      ...section('*Renewal and deploy*'),
      fields: renewal.map((text) => ({ type: 'mrkdwn' as const, text })),
    });
  if (c.problem) blocks.push(section(`:warning: *Problem:* ${e(clip(c.problem.detail, 400))}`));
  if (c.lastRenewalError) {
    const r = c.lastRenewalError;
    const at = new Date(r.at);
    blocks.push(
      section(
        `:warning: *Last renewal error* (${e(r.code)}, ${Number.isNaN(at.getTime()) ? e(r.at) : when(at)}): ${e(clip(r.message, 400))}`,
      ),
    );
  }
  for (const a of d.pending.slice(0, 3)) {
    blocks.push(
      context(
        `:hourglass: Waiting for approval (${e(a.kind)}) requested by ${actorMention(a.requestedBy)} at ${when(a.requestedAt)}`,
      ),
    );
  }

  if (d.bindings.length === 0) {
    blocks.push(section(`*Deployed to:* no BIG-IP profile is bound to it (\`/acme binding add ${e(c.name)}\`).`));
  } else {
    const lines = d.bindings.slice(0, MAX_BINDINGS).map((b) => {
      const serving = lastVerifiedText(b);
      const current =
        c.serial && b.deployedSerial === c.serial
          ? ''
          : b.deployedSerial
            ? ' :arrows_counterclockwise: older serial'
            : '';
      return `• *${e(b.deviceName)}* \`${e(b.profilePath)}\`: ${serving}${current}`;
    });
    if (d.bindings.length > MAX_BINDINGS)
      lines.push(`… and ${d.bindings.length - MAX_BINDINGS} more (\`/acme binding list ${e(c.name)}\`)`);
    blocks.push(section(`*Deployed to:*\n${lines.join('\n')}`));
    if (c.state === 'issued') blocks.push(deployActions(c.name, d.bindings.length));
  }
  if (d.deployments.length > 0) {
    const recent = d.deployments
      .slice(0, MAX_DEPLOYMENTS)
      .map(
        (x) =>
          `${when(x.startedAt)} ${e(x.deviceName)}: ${e(x.result)}${x.error ? ` at ${e(x.step)}` : ''} (serial ${e(x.serial)})`,
      );
    blocks.push(context(`Recent deploys: ${recent.join(' · ')}`));
  }
  const text = `${c.name}: ${c.state}${c.notAfter ? `, expires ${when(c.notAfter)}` : ''}, ${d.bindings.length} binding(s)`;
  return { text: e(text), blocks };
}

/** One certificate's line in a renewal run. */
export interface RenewRow {
  name: string;
  status: 'queued' | 'renewing' | 'renewed' | 'waiting' | 'failed';
  /** renewing: the latest progress line; renewed: serial and expiry; waiting/failed: why. */
  detail?: string;
}

const RENEW_EMOJI: Record<RenewRow['status'], string> = {
  queued: ':white_circle:',
  renewing: ':hourglass_flowing_sand:',
  renewed: ':white_check_mark:',
  waiting: ':warning:',
  failed: ':x:',
};

/** Rows as lines packed into sections, so a long run still fits one message. */
function packedLines(lines: string[], room: number): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + line.length + 1 > 480) {
      blocks.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) blocks.push(section(current));
  if (blocks.length <= room) return blocks;
  return [...blocks.slice(0, room - 1), context(`… more rows left out; see ${slackCommand(['cert', 'list'])}`)];
}

/** `/acme cert renew …` while it runs (`done` false) and its summary (`done` true). */
export function renewProgressMessage(rows: RenewRow[], done: boolean): BotMessage {
  const count = (s: RenewRow['status']) => rows.filter((r) => r.status === s).length;
  const finished = count('renewed') + count('waiting') + count('failed');
  const title = done ? 'Renewal finished' : `Renewing ${rows.length} certificate${rows.length === 1 ? '' : 's'}`;
  const summary = done
    ? `${count('renewed')} renewed · ${count('waiting')} waiting · ${count('failed')} failed`
    : `${finished} of ${rows.length} done`;
  const lines = rows.map(
    (r) => `${RENEW_EMOJI[r.status]} *${e(r.name)}* ${r.status}${r.detail ? `: ${e(clip(r.detail, 200))}` : ''}`,
  );
  const head: types.KnownBlock[] = [header(title), context(summary)];
  return { text: `${title}: ${summary}`, blocks: [...head, ...packedLines(lines, MAX_BLOCKS - head.length)] };
}

/** `/acme cert deploy NAME` while it runs: how many devices, and the latest progress lines. */
export function deployProgressMessage(name: string, devices: number, lines: string[]): BotMessage {
  const title = `Deploying ${name} to ${devices} device${devices === 1 ? '' : 's'}`;
  const blocks: types.KnownBlock[] = [header(title)];
  if (lines.length > 0)
    blocks.push(
      section(
        lines
          .slice(-10)
          .map((l) => e(clip(l, 200)))
          .join('\n'),
      ),
    );
  else blocks.push(context(':hourglass_flowing_sand: starting…'));
  return { text: `${title}…`, blocks };
}

const DEPLOY_EMOJI: Record<string, string> = {
  succeeded: ':white_check_mark:',
  unchanged: ':white_check_mark:',
  failed: ':x:',
  rolled_back: ':leftwards_arrow_with_hook:',
};

/** `/acme cert deploy NAME` done: one line per device with its result and, on failure, where and why. */
export function deployResultMessage(r: DeployReport): BotMessage {
  const title = r.ok ? `Deployed ${r.certificate}` : `Deploy of ${r.certificate} had failures`;
  const lines = r.devices.map((d) => {
    const why = d.error ? ` at ${e(d.step)}: ${e(clip(d.error.message, 200))}` : '';
    return `${DEPLOY_EMOJI[d.result] ?? ':white_circle:'} *${e(d.device)}* ${e(d.result)}${why}\n   ${e(clip(d.outcome, 200))}`;
  });
  const head: types.KnownBlock[] = [
    header(title),
    context(
      `serial \`${e(r.serial)}\` · ${r.devices.filter((d) => d.result === 'succeeded' || d.result === 'unchanged').length} of ${r.devices.length} device(s) ok`,
    ),
  ];
  return {
    text: e(`${title}: ${r.devices.map((d) => `${d.device} ${d.result}`).join(', ')}`),
    blocks: [...head, ...packedLines(lines, MAX_BLOCKS - head.length)],
  };
}
