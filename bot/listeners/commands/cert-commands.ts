import { CoreError } from '../../../core/errors.ts';
import {
  certificateDetailMessage,
  deployProgressMessage,
  deployResultMessage,
  expiryText,
  type RenewRow,
  renewProgressMessage,
} from '../../blocks/certificate-detail.ts';
import { type BotMessage, escapeMrkdwn, section } from '../../blocks/message.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { certRequestView } from '../../modals/cert-request.ts';
import { errorText, slackActor } from '../approvers.ts';
import { replyError } from '../../reply-error.ts';
import { profileChoices, profileWithDomains } from '../forms/cert-forms.ts';
import { progressUpdates } from '../progress-updates.ts';
import type { CommandContext } from './command-context.ts';
import { slackCommand } from '../../slack-words.ts';

type CertCommand = Extract<
  AcmeCommand,
  { kind: 'cert_request' | 'cert_show' | 'cert_renew' | 'cert_deploy' | 'cert_revoke' }
>;

/** The command's response_url, replacing its first answer; 1 send is the first answer itself. */
function replacing(ctx: CommandContext, minMs: number) {
  return progressUpdates((m) => ctx.respond({ response_type: 'ephemeral', replace_original: true, ...m }), ctx.log, {
    minMs,
    maxSends: 4,
  });
}

/** The cert subcommands that change something or open a form. */
export async function runCertCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  const c = command as CertCommand;
  switch (c.kind) {
    case 'cert_request':
      return openRequestForm(ctx, c.profile);
    case 'cert_show':
      return show(ctx, c.name);
    case 'cert_renew':
      return renew(ctx, c.names, c.profile);
    case 'cert_deploy':
      return runDeploy(ctx, c.name);
    case 'cert_revoke':
      return revoke(ctx, c.name, c.reason, c.reissue);
  }
}

/**
 * Revokes now, or asks an approver when the profile's rule wants one. Bad input (reason, name, state) is
 * refused by the core before anything happens, and said ephemerally like every error of a command.
 */
async function revoke(ctx: CommandContext, rawName: string, reason: string, reissue: boolean): Promise<void> {
  const name = escapeMrkdwn(rawName);
  const textMessage = (text: string): BotMessage => ({ text, blocks: [section(text)] });
  const actor = slackActor(ctx.userId);
  await ctx.reply(textMessage(`:hourglass_flowing_sand: ${name}: revoking${reissue ? ' (replacement first)' : ''}…`));
  const updates = replacing(ctx, 2_000);
  try {
    const r = await ctx.services.revocations.revoke(
      { name: rawName, reason, reissue },
      actor,
      (line) => updates.progress(textMessage(`:hourglass_flowing_sand: ${escapeMrkdwn(line)}`)),
      { approval: true },
    );
    const text =
      r.outcome === 'awaiting_approval'
        ? `:raised_hand: Revocation of *${name}* (serial \`${r.serial}\`, ${r.reason}) waits for an approver (approval \`${r.approvalId}\`). Nothing is revoked yet.`
        : `:no_entry: *${name}*: serial \`${r.serial}\` revoked (${r.reason}).${r.replacement ? ` Replacement serial \`${r.replacement.serial}\` is deployed.` : ' BIG-IPs keep serving it until a replacement is deployed.'}`;
    await updates.final(textMessage(text));
  } catch (err) {
    await updates.final(
      errorMessage(replyError(err, ctx.log, { what: 'slack revocation', fields: { certificate: rawName } })),
    );
  }
}

async function openRequestForm(ctx: CommandContext, profileName: string | undefined): Promise<void> {
  const profiles = await profileChoices(ctx.services);
  if (profiles.length === 0) {
    await ctx.reply(
      errorMessage(
        'There is no CA profile yet; an admin creates one with /acme profile create. Nothing was requested.',
      ),
    );
    return;
  }
  // One profile: nothing to choose. An unknown --profile: the form says so and lets the user pick.
  const wanted = profileName ?? (profiles.length === 1 ? profiles[0]!.name : undefined);
  const selected = await profileWithDomains(ctx.services, wanted);
  const view = certRequestView({
    profiles,
    selected,
    ...(profileName && !selected ? { notice: `There is no CA profile named "${profileName}"; pick one.` } : {}),
  });
  try {
    await ctx.client.views.open({ trigger_id: ctx.triggerId, view });
  } catch (err) {
    ctx.log.warn({ err: errorText(err), user: ctx.userId }, 'slack certificate form could not be opened');
    await ctx.reply(
      errorMessage('The certificate form could not be opened (Slack allows 3 seconds); run the command again.'),
    );
  }
}

async function show(ctx: CommandContext, name: string): Promise<void> {
  const { services } = ctx;
  const cert = await services.certificates.show(name);
  const [bindings, deployments, approvals] = await Promise.all([
    services.bindings.list({ certificate: cert.name }),
    services.deploys.history(cert.name, 5),
    services.approvals.list('pending'),
  ]);
  await ctx.reply(
    certificateDetailMessage({
      cert,
      bindings,
      deployments,
      pending: approvals.filter((a) => a.certificateId === cert.id),
      now: new Date(),
    }),
  );
}

/** Names, all issued certificates of a profile, or the named ones within that profile. */
async function renewTargets(ctx: CommandContext, names: string[], profile: string | undefined): Promise<string[]> {
  if (!profile) return [...new Set(names)];
  const inProfile = await ctx.services.certificates.list(profile);
  if (names.length === 0) return inProfile.filter((c) => c.state === 'issued').map((c) => c.name);
  const known = new Set(inProfile.map((c) => c.name));
  const outside = names.filter((n) => !known.has(n));
  if (outside.length > 0)
    throw new CoreError(
      'input_invalid',
      `not certificates of profile "${profile}": ${outside.join(', ')}; nothing was renewed`,
    );
  return [...new Set(names)];
}

/**
 * Renews one after another (each talks to the CA): the first answer lists them, then the same message is
 * updated as they finish and ends as the summary.
 */
async function renew(ctx: CommandContext, names: string[], profile: string | undefined): Promise<void> {
  const targets = await renewTargets(ctx, names, profile);
  if (targets.length === 0) {
    await ctx.reply(errorMessage(`Profile "${profile}" has no issued certificate to renew.`));
    return;
  }
  const rows: RenewRow[] = targets.map((name) => ({ name, status: 'queued' }));
  await ctx.reply(renewProgressMessage(rows, false));
  const updates = replacing(ctx, 2_000);
  const actor = slackActor(ctx.userId);
  for (const row of rows) {
    row.status = 'renewing';
    updates.progress(renewProgressMessage(rows, false));
    try {
      const view = await ctx.services.certificates.renew(row.name, actor, (line) => {
        row.detail = line;
        updates.progress(renewProgressMessage(rows, false));
      });
      if (view.state === 'issued' && view.renewalState === null) {
        row.status = 'renewed';
        row.detail = `serial ${view.serial ?? '-'}, expires ${expiryText(view.notAfter, new Date())}`;
      } else {
        // The renewal runs beside the live certificate, which stays issued: say where the renewal stands.
        const why = view.renewalState !== null ? view.lastRenewalError?.message : view.problem?.detail;
        row.status = 'waiting';
        row.detail = `${view.renewalState ?? view.state}${why ? `: ${why}` : ''}; continue with ${slackCommand(['cert', 'resume', view.name])}`;
      }
    } catch (err) {
      row.status = 'failed';
      row.detail = replyError(err, ctx.log, { what: 'slack renewal', fields: { certificate: row.name } });
    }
    updates.progress(renewProgressMessage(rows, false));
  }
  await updates.final(renewProgressMessage(rows, true));
}

/**
 * Deploys to every bound device: first how many, then progress per device, then each device's result. The
 * one Slack deploy path: `/acme cert deploy` and the Deploy buttons both come here.
 */
export async function runDeploy(ctx: CommandContext, name: string): Promise<void> {
  // The deploy's own pre-checks (issued, bound), so the count shown first is the one the deploy uses.
  const { certificate, devices } = await ctx.services.deploys.targets(name);
  const cert = { name: certificate };
  const lines: string[] = [];
  await ctx.reply(deployProgressMessage(cert.name, devices, lines));
  const updates = replacing(ctx, 2_000);
  try {
    const report = await ctx.services.deploys.deploy(cert.name, {}, slackActor(ctx.userId), (line) => {
      lines.push(line);
      updates.progress(deployProgressMessage(cert.name, devices, lines));
    });
    await updates.final(deployResultMessage(report));
  } catch (err) {
    await updates.final(
      errorMessage(replyError(err, ctx.log, { what: 'slack deploy', fields: { certificate: cert.name } })),
    );
  }
}
