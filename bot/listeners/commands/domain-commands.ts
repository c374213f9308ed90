import type { DomainRef } from '../../../core/services/domain-service.ts';
import { cardFromDomain, challengeMessage } from '../../blocks/challenge.ts';
import { type BulkTestRow, domainTestMessage } from '../../blocks/domain-test.ts';
import { type BotMessage, context, escapeMrkdwn as e, section } from '../../blocks/message.ts';
import { errorMessage } from '../../blocks/usage.ts';
import type { AcmeCommand } from '../../command-parser.ts';
import { domainAddModal } from '../../modals/domain-add.ts';
import { domainDnsModal } from '../../modals/domain-dns.ts';
import { domainEndpointModal } from '../../modals/domain-endpoint.ts';
import { errorText, slackActor } from '../approvers.ts';
import { cardsFor, Poster, postChallengeCards, testNotice } from '../forms/domain-forms.ts';
import type { CommandContext } from './command-context.ts';
import { replyError } from '../../reply-error.ts';
import { slackCommand } from '../../slack-words.ts';

/**
 * A command's response_url takes about five posts in 30 minutes: the first answer, a few progress
 * replacements, the final one. Progress beyond the budget is dropped; the final answer always has room.
 */
const RESPONSE_BUDGET = 5;

function responder(ctx: CommandContext) {
  let used = 0;
  const send = async (message: BotMessage, replace: boolean) => {
    used++;
    try {
      await ctx.respond({ response_type: 'ephemeral', ...(replace ? { replace_original: true } : {}), ...message });
    } catch (err) {
      ctx.log.warn({ err: errorText(err) }, 'slack /acme domain answer could not be delivered');
    }
  };
  return {
    first: (message: BotMessage) => send(message, false),
    /** A progress replacement, when the budget still leaves room for the final answer. */
    progress: async (message: BotMessage) => {
      if (used < RESPONSE_BUDGET - 1) await send(message, true);
    },
    final: (message: BotMessage) => send(message, used > 0),
  };
}

const problem = (ctx: CommandContext, err: unknown, what: string): string =>
  replyError(err, ctx.log, { what: 'slack /acme domain', fields: { subcommand: what } });

async function openAddForm(ctx: CommandContext, command: Extract<AcmeCommand, { kind: 'domain_add' }>): Promise<void> {
  const profiles = (await ctx.services.profiles.list()).map((p) => p.name);
  if (profiles.length === 0) {
    await ctx.reply(errorMessage('There is no CA profile yet; an admin creates one with /acme profile create.'));
    return;
  }
  if (command.profile !== undefined && !profiles.includes(command.profile)) {
    await ctx.reply(errorMessage(`No profile named "${command.profile}" (see /acme profile list).`));
    return;
  }
  const view = domainAddModal({
    profiles,
    profile: command.profile,
    names: command.names,
    builtinAvailable: Boolean(ctx.responderUrl),
    channel: ctx.channelId,
  });
  await openModal(ctx, view);
}

async function openEndpointForm(
  ctx: CommandContext,
  command: Extract<AcmeCommand, { kind: 'domain_endpoint' }>,
): Promise<void> {
  // Resolved now, so the form names one domain of one profile and a typo is answered before it opens.
  const { domain } = await ctx.services.domains.show({ name: command.name, profile: command.profile });
  await openModal(ctx, domainEndpointModal(domain, { builtinAvailable: Boolean(ctx.responderUrl) }));
}

async function openDnsForm(ctx: CommandContext, command: Extract<AcmeCommand, { kind: 'domain_dns' }>): Promise<void> {
  const { domain } = await ctx.services.domains.show({ name: command.name, profile: command.profile });
  await openModal(ctx, domainDnsModal(domain));
}

async function openModal(
  ctx: CommandContext,
  view: Parameters<CommandContext['client']['views']['open']>[0]['view'],
): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: ctx.triggerId, view });
  } catch (err) {
    ctx.log.warn({ err: errorText(err) }, 'slack domain form could not be opened');
    await ctx.reply(errorMessage('The form could not be opened (Slack allows 3 seconds); run the command again.'));
  }
}

/** One name: "Testing…", then the domain's challenge message with the outcome (and its buttons). */
async function testOne(ctx: CommandContext, ref: DomainRef): Promise<void> {
  const out = responder(ctx);
  const { domain, challenge } = await ctx.services.domains.show(ref);
  const resolved = { name: domain.name, profile: domain.profileName };
  await out.first(
    challengeMessage({
      ...cardFromDomain(domain, challenge),
      tlsFiles: 'cli',
      notice: { tone: 'busy', text: 'Testing…' },
    }),
  );
  let notice: ReturnType<typeof testNotice>;
  try {
    notice = testNotice(await ctx.services.domains.test(resolved, slackActor(ctx.userId)));
  } catch (err) {
    notice = { tone: 'bad', text: problem(ctx, err, 'domain test') };
  }
  const after = await ctx.services.domains.show(resolved).catch(() => ({ domain, challenge }));
  await out.final(challengeMessage({ ...cardFromDomain(after.domain, after.challenge), tlsFiles: 'cli', notice }));
}

/** Several names, or every pending domain of a profile: one message, replaced a few times, then the summary. */
async function testMany(ctx: CommandContext, refs: DomainRef[], scope: string): Promise<void> {
  const out = responder(ctx);
  const rows: BulkTestRow[] = [];
  const message = (done: boolean) => domainTestMessage({ scope, total: refs.length, rows, done });
  await out.first(message(false));
  // Evenly spaced progress replacements, as many as the response_url budget allows.
  const steps = RESPONSE_BUDGET - 2;
  const checkpoints = new Set(
    Array.from({ length: steps }, (_, i) => Math.ceil(((i + 1) * refs.length) / (steps + 1))),
  );
  for (const ref of refs) {
    try {
      const r = await ctx.services.domains.test(ref, slackActor(ctx.userId));
      rows.push({ name: r.domain.name, profile: r.domain.profileName, outcome: r.outcome, detail: r.detail });
    } catch (err) {
      rows.push({
        name: ref.name,
        profile: ref.profile ?? '-',
        outcome: 'error',
        detail: problem(ctx, err, 'domain test'),
      });
    }
    if (rows.length < refs.length && checkpoints.has(rows.length)) await out.progress(message(false));
  }
  await out.final(message(true));
}

async function runTest(ctx: CommandContext, command: Extract<AcmeCommand, { kind: 'domain_test' }>): Promise<void> {
  if (command.names.length === 1) return testOne(ctx, { name: command.names[0]!, profile: command.profile });
  if (command.names.length > 1) {
    const refs = command.names.map((name) => ({ name, profile: command.profile }));
    return testMany(ctx, refs, `${refs.length} domains${command.profile ? ` of profile ${command.profile}` : ''}`);
  }
  const profile = command.profile!;
  const all = await ctx.services.domains.list(profile);
  const pending = all.filter((d) => d.status === 'pending');
  if (pending.length === 0) {
    const counts =
      all.length === 0
        ? 'it has no domains'
        : `its ${all.length} domain${all.length === 1 ? ' is' : 's are'} ${[...new Set(all.map((d) => d.status))].join(' or ')}`;
    await ctx.reply({
      text: e(`Nothing to test in profile ${profile}: ${counts}.`),
      blocks: [
        section(`Nothing to test in profile \`${e(profile)}\`: ${e(counts)}.`),
        context('Test one domain by name: `/acme domain test NAME`.'),
      ],
    });
    return;
  }
  return testMany(
    ctx,
    pending.map((d) => ({ name: d.name, profile })),
    `pending domains of profile ${profile}`,
  );
}

async function runReconfigure(
  ctx: CommandContext,
  command: Extract<AcmeCommand, { kind: 'domain_reconfigure' }>,
): Promise<void> {
  const out = responder(ctx);
  const note = (text: string) => ({ text: e(text), blocks: [section(e(text))] });
  await out.first(
    note(`Reconfiguring profile ${command.profile}: asking the CA for fresh challenges where they expired or failed…`),
  );
  let refreshed: Awaited<ReturnType<CommandContext['services']['domains']['reconfigure']>>;
  try {
    refreshed = await ctx.services.domains.reconfigure(command.profile, slackActor(ctx.userId));
  } catch (err) {
    await out.final(errorMessage(problem(ctx, err, 'domain reconfigure')));
    return;
  }
  if (refreshed.length === 0) {
    await out.final(
      note(`Every domain of profile ${command.profile} still has usable challenge content; nothing was refreshed.`),
    );
    return;
  }
  const poster = new Poster(ctx, ctx.client, ctx.channelId, ctx.userId);
  const posted = await postChallengeCards(ctx, ctx.client, poster, await cardsFor(ctx, command.profile, refreshed));
  const names = refreshed.map((c) => `\`${e(c.domain)}\``).join(', ');
  const where =
    posted > 0
      ? `; the new content is in ${poster.where()}`
      : `; see it with ${slackCommand(['domain', 'show', 'NAME'])}`;
  await out.final({
    text: e(`Fresh challenge content for ${refreshed.length} domains of profile ${command.profile}`),
    blocks: [
      section(
        `:white_check_mark: Fresh challenge content for ${refreshed.length} domain${refreshed.length === 1 ? '' : 's'} of profile \`${e(command.profile)}\`${where}.`,
      ),
      context(names),
    ],
  });
}

/** The domain subcommands that change something or open a form. */
export async function runDomainCommand(ctx: CommandContext, command: AcmeCommand): Promise<void> {
  switch (command.kind) {
    case 'domain_add':
      return openAddForm(ctx, command);
    case 'domain_endpoint':
      return openEndpointForm(ctx, command);
    case 'domain_dns':
      return openDnsForm(ctx, command);
    case 'domain_test':
      return runTest(ctx, command);
    case 'domain_reconfigure':
      return runReconfigure(ctx, command);
    default:
      await ctx.reply(errorMessage(`/acme ${command.kind.replace('_', ' ')} is not a domain subcommand.`));
  }
}
