import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  types,
  ViewSubmitAction,
  webApi,
} from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import type { ChallengeContent } from '../../../core/domain/challenge-content.ts';
import type { DomainRef, DomainView, TestResult } from '../../../core/services/domain-service.ts';
import {
  type ChallengeCard,
  cardFromDomain,
  challengeMessage,
  DEPLOY_TEST_ACTION,
  decodeDomainRef,
  publishTarget,
  RECONFIGURE_ACTION,
  TEST_CONNECTION_ACTION,
  type TlsFiles,
  tlsFileUploads,
  tlsUploadComment,
} from '../../blocks/challenge.ts';
import { type BotMessage, escapeMrkdwn } from '../../blocks/message.ts';
import {
  ADD_BLOCKS,
  addedView,
  addFailedView,
  addingView,
  DOMAIN_ADD_VIEW,
  type DomainAddInput,
  decodeAddMetadata,
  readDomainAddForm,
} from '../../modals/domain-add.ts';
import { DNS_BLOCKS, DOMAIN_DNS_VIEW, dnsErrorBlock, dnsSavedView, readDnsForm } from '../../modals/domain-dns.ts';
import {
  DOMAIN_ENDPOINT_VIEW,
  ENDPOINT_BLOCKS,
  endpointErrorBlock,
  endpointSavedView,
  readEndpointForm,
  type ViewValues,
} from '../../modals/domain-endpoint.ts';
import { errorText, slackActor } from '../approvers.ts';
import type { ListenerDeps } from '../deps.ts';
import { throttled } from '../progress-updates.ts';
import { replyError } from '../../reply-error.ts';

/**
 * The domain forms (add, endpoint) and the challenge message's buttons. Domain work is not admin-only (the
 * command is not, see `isAdminCommand`): application teams add their own domains. Every click and submission
 * still reloads the domain from the core by name and profile; nothing in a button or metadata is trusted.
 */
type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;
type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;
type Client = webApi.WebClient;

const problemText = (deps: ListenerDeps, err: unknown, what: string): string =>
  replyError(err, deps.log, { what: `slack ${what}` });

/** Slack's error code of a failed Web API call (`not_in_channel`, …), if it is one. */
function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/** Where a post went, for chat.update and for telling the person where to look. */
export interface Posted {
  channel: string;
  ts: string;
}

/**
 * Posts with chat.postMessage (not postEphemeral, not respond): only a real message has a `ts` that
 * chat.update can edit, and the challenge messages update in place on every click. In a channel the bot is
 * not in (or a DM with someone else) Slack refuses; the post then goes to the person's DM with the app.
 */
export class Poster {
  private channel: string;

  constructor(
    private readonly deps: ListenerDeps,
    private readonly client: Client,
    channel: string,
    private readonly user: string,
  ) {
    this.channel = channel;
  }

  async post(message: BotMessage): Promise<Posted | null> {
    try {
      return await this.send(message);
    } catch (err) {
      const code = slackError(err);
      if (
        this.channel !== this.user &&
        (code === 'not_in_channel' || code === 'channel_not_found' || code === 'is_archived')
      ) {
        this.deps.log.info(
          { channel: this.channel, code },
          'slack channel refused the post; sending to the user instead',
        );
        this.channel = this.user;
        try {
          return await this.send(message);
        } catch (again) {
          this.deps.log.warn({ err: errorText(again) }, 'slack message could not be posted to the user either');
          return null;
        }
      }
      this.deps.log.warn({ err: errorText(err), channel: this.channel }, 'slack message could not be posted');
      return null;
    }
  }

  private async send(message: BotMessage): Promise<Posted> {
    const res = await this.client.chat.postMessage({ channel: this.channel, ...message });
    const channel = typeof res.channel === 'string' && res.channel !== '' ? res.channel : this.channel;
    if (channel !== this.channel && this.channel === this.user) this.channel = channel;
    return { channel, ts: String(res.ts ?? '') };
  }

  /** How to name where the posts went, in mrkdwn. */
  where(): string {
    return this.channel.startsWith('C') || this.channel.startsWith('G')
      ? `<#${this.channel}>`
      : 'your DM with this app';
  }
}

/** Uploads a TLS-ALPN-01 domain's `.cert` and `.key` into the thread of its message; false when Slack refused. */
async function uploadTlsFiles(
  deps: ListenerDeps,
  client: Client,
  at: Posted,
  content: ChallengeContent,
): Promise<boolean> {
  const files = tlsFileUploads(content);
  if (files.length === 0) return true;
  try {
    await client.files.uploadV2({
      channel_id: at.channel,
      thread_ts: at.ts,
      initial_comment: tlsUploadComment(content.domain),
      file_uploads: files,
    });
    return true;
  } catch (err) {
    // The error names the call, never the file content.
    deps.log.warn(
      { domain: content.domain, code: slackError(err) ?? null, err: errorText(err) },
      'slack TLS-ALPN-01 files could not be uploaded',
    );
    return false;
  }
}

/**
 * One challenge message per domain (a click then updates exactly one message), TLS-ALPN-01 files in its
 * thread. A failed upload turns the message's file note into the CLI line. Returns how many were posted.
 */
export async function postChallengeCards(
  deps: ListenerDeps,
  client: Client,
  poster: Poster,
  cards: Omit<ChallengeCard, 'tlsFiles'>[],
): Promise<number> {
  let posted = 0;
  for (const card of cards) {
    const at = await poster.post(challengeMessage({ ...card, tlsFiles: 'thread' }));
    if (!at) continue;
    posted++;
    if (card.content.tls && !(await uploadTlsFiles(deps, client, at, card.content))) {
      await client.chat
        .update({ channel: at.channel, ts: at.ts, ...challengeMessage({ ...card, tlsFiles: 'failed' }) })
        .catch((err: unknown) => {
          deps.log.warn({ err: errorText(err) }, 'slack challenge message could not be updated');
        });
    }
  }
  return posted;
}

/** Challenge messages for domains the core just returned content for (add, reconfigure). */
export async function cardsFor(
  deps: ListenerDeps,
  profile: string,
  contents: ChallengeContent[],
): Promise<Omit<ChallengeCard, 'tlsFiles'>[]> {
  const views = new Map((await deps.services.domains.list(profile)).map((d) => [d.name, d]));
  return contents.map((content) => {
    const domain = views.get(content.domain);
    return domain ? cardFromDomain(domain, content) : { content, profileName: profile, publishesTo: null };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Add

/** Fast store-only checks the core's add makes before it calls the CA, answered inline instead. */
async function precheckAdd(deps: ListenerDeps, input: DomainAddInput): Promise<Record<string, string> | null> {
  const profiles = await deps.services.profiles.list();
  if (!profiles.some((p) => p.name === input.profile))
    return { [ADD_BLOCKS.profile]: `No profile named "${input.profile}" (any more); choose another.` };
  const existing = new Set((await deps.services.domains.list(input.profile)).map((d) => d.name));
  const taken = input.names.filter((n) => existing.has(n));
  if (taken.length > 0) return { [ADD_BLOCKS.names]: `Already in profile "${input.profile}": ${taken.join(', ')}` };
  return null;
}

async function setEndpoints(deps: ListenerDeps, input: DomainAddInput, actor: string): Promise<string[]> {
  const problems: string[] = [];
  if (input.endpoint.kind === 'none') return problems;
  for (const name of input.names) {
    const ref: DomainRef = { name, profile: input.profile };
    try {
      if (input.endpoint.kind === 'custom') await deps.services.domains.setEndpoint(ref, input.endpoint.input, actor);
      else await deps.services.domains.useBuiltinEndpoint(ref, deps.responderUrl!, actor);
    } catch (err) {
      problems.push(`The endpoint of ${name} was not set: ${problemText(deps, err, 'domain endpoint')}`);
    }
  }
  return problems;
}

export function domainAddCallback(deps: ListenerDeps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const builtinAvailable = Boolean(deps.responderUrl);
    const form = readDomainAddForm(view.state.values as ViewValues, { builtinAvailable });
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    const input = form.value;
    try {
      const errors = await precheckAdd(deps, input);
      if (errors) {
        await ack({ response_action: 'errors', errors });
        return;
      }
    } catch (err) {
      await ack({
        response_action: 'errors',
        errors: { [ADD_BLOCKS.names]: problemText(deps, err, 'domain add check') },
      });
      return;
    }
    // The CA is slow: the modal says so at once (within Slack's 3 s), the rest follows.
    await ack({ response_action: 'update', view: addingView(input) });
    const viewId = body.view.id;
    const updateView = (v: types.ModalView) =>
      client.views.update({ view_id: viewId, view: v }).catch((err: unknown) => {
        // Closed by the person in the meantime: the posted messages still tell them.
        deps.log.info({ err: errorText(err) }, 'slack domain add modal could not be updated');
      });
    const actor = slackActor(userId);
    const live = throttled((line) => updateView(addingView(input, line)));
    let contents: ChallengeContent[];
    try {
      contents = await deps.services.domains.add(input.profile, input.names, input.challengeType, actor, live.push);
    } catch (err) {
      await live.close();
      const message = problemText(deps, err, 'domain add');
      deps.log.info({ user: userId, profile: input.profile, err: message }, 'slack domain add refused');
      await updateView(addFailedView(message));
      return;
    }
    await live.close();
    const problems = await setEndpoints(deps, input, actor);
    const poster = new Poster(deps, client, decodeAddMetadata(view.private_metadata)?.channel ?? userId, userId);
    let posted = 0;
    try {
      posted = await postChallengeCards(deps, client, poster, await cardsFor(deps, input.profile, contents));
    } catch (err) {
      problems.push(`The challenge messages could not all be posted: ${problemText(deps, err, 'challenge post')}`);
    }
    await updateView(
      addedView({
        profile: input.profile,
        names: contents.map((c) => c.domain),
        where: posted > 0 ? poster.where() : null,
        problems,
      }),
    );
  };
}

// ---------------------------------------------------------------------------------------------------------
// Endpoint

export function domainEndpointCallback(deps: ListenerDeps) {
  return async ({ ack, body, view }: SubmitArgs): Promise<void> => {
    const meta = decodeDomainRef(view.private_metadata);
    if (!meta) {
      await ack({
        response_action: 'errors',
        errors: {
          [ENDPOINT_BLOCKS.mode]:
            'This form does not name a domain; close it and run /acme domain endpoint NAME again.',
        },
      });
      return;
    }
    const form = readEndpointForm(view.state.values as ViewValues, { builtinAvailable: Boolean(deps.responderUrl) });
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    const ref: DomainRef = { name: meta.name, profile: meta.profile };
    const actor = slackActor(body.user.id);
    let saved: DomainView;
    try {
      const { choice } = form;
      if (choice.mode === 'set') saved = await deps.services.domains.setEndpoint(ref, choice.endpoint, actor);
      else if (choice.mode === 'builtin')
        saved = await deps.services.domains.useBuiltinEndpoint(ref, deps.responderUrl!, actor);
      else saved = await deps.services.domains.clearEndpoint(ref, actor);
    } catch (err) {
      const message = problemText(deps, err, 'domain endpoint');
      const block = isCoreError(err)
        ? endpointErrorBlock(message, ENDPOINT_BLOCKS, ENDPOINT_BLOCKS.mode)
        : ENDPOINT_BLOCKS.mode;
      await ack({ response_action: 'errors', errors: { [block]: message } });
      return;
    }
    const target = publishTarget(saved);
    const summary = saved.endpointUrl
      ? `:white_check_mark: *${escapeMrkdwn(saved.name)}* now publishes its challenge to \`${escapeMrkdwn(saved.endpointUrl)}\` as \`${escapeMrkdwn(saved.endpointUsername ?? '')}\`. *Deploy & Test* appears on its challenge message at the next update (e.g. after *Test Connection*).`
      : `:white_check_mark: *${escapeMrkdwn(saved.name)}* has no endpoint now${target ? ` (it still publishes to ${escapeMrkdwn(target)})` : ''}; its challenge content is published by hand.`;
    await ack({ response_action: 'update', view: endpointSavedView(summary) });
  };
}

// ---------------------------------------------------------------------------------------------------------
// DNS method (RFC 2136 + TSIG, acme-dns)

export function domainDnsCallback(deps: ListenerDeps) {
  return async ({ ack, body, view }: SubmitArgs): Promise<void> => {
    const meta = decodeDomainRef(view.private_metadata);
    if (!meta) {
      await ack({
        response_action: 'errors',
        errors: {
          [DNS_BLOCKS.mode]: 'This form does not name a domain; close it and run /acme domain dns NAME again.',
        },
      });
      return;
    }
    const form = readDnsForm(view.state.values as ViewValues);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    const ref: DomainRef = { name: meta.name, profile: meta.profile };
    const actor = slackActor(body.user.id);
    let summary: string;
    try {
      const { choice } = form;
      const name = escapeMrkdwn(meta.name);
      if (choice.mode === 'rfc2136') {
        const saved = await deps.services.domains.setDnsRfc2136(ref, choice.input, actor);
        const s = saved.dnsPublisher;
        summary = `:white_check_mark: *${name}* now publishes its TXT record by RFC 2136 update to \`${escapeMrkdwn(s?.kind === 'rfc2136' ? s.server : '')}\` with TSIG key \`${escapeMrkdwn(s?.kind === 'rfc2136' ? s.keyName : '')}\`. Run *Test Connection* to try the update path.`;
      } else if (choice.mode === 'acme-dns') {
        // Registering calls the acme-dns server; Slack waits 3 s for the answer, which a reachable one keeps.
        const r = await deps.services.domains.setDnsAcmeDns(ref, { url: choice.url }, actor);
        summary = `:white_check_mark: *${name}* now publishes its TXT record through acme-dns. Create this record once:\n\`\`\`${r.delegation?.record ?? ''}\`\`\`\n${r.delegation?.problem ? `Not there yet: ${escapeMrkdwn(r.delegation.problem)}` : 'It resolves: ready.'}`;
      } else {
        await deps.services.domains.clearDns(ref, actor);
        summary = `:white_check_mark: *${name}* has no DNS method now; its TXT record is published by hand.`;
      }
    } catch (err) {
      const message = problemText(deps, err, 'domain dns');
      await ack({
        response_action: 'errors',
        errors: { [isCoreError(err) ? dnsErrorBlock(message) : DNS_BLOCKS.mode]: message },
      });
      return;
    }
    await ack({ response_action: 'update', view: dnsSavedView(summary) });
  };
}

// ---------------------------------------------------------------------------------------------------------
// Buttons

type ClickKind = 'test' | 'deploy' | 'reconfigure';
const BUSY: Record<ClickKind, string> = {
  test: 'Testing… (checking the content is reachable, then asking the CA to validate)',
  deploy: 'Deploying the challenge content to the endpoint, then testing…',
  reconfigure: 'Reconfiguring… (asking the CA for fresh challenges where needed)',
};

/** The clicked message: edited with chat.update, or through response_url when it is ephemeral (chat.update cannot). */
interface ClickTarget {
  ephemeral: boolean;
  at: Posted | null;
  update(message: BotMessage): Promise<void>;
}

function clickTarget(deps: ListenerDeps, args: ButtonArgs): ClickTarget {
  const { body, client } = args;
  const container = body.container as { channel_id?: unknown; message_ts?: unknown; is_ephemeral?: unknown };
  const channel =
    body.channel?.id ?? (typeof container['channel_id'] === 'string' ? container['channel_id'] : undefined);
  const ts = body.message?.ts ?? (typeof container['message_ts'] === 'string' ? container['message_ts'] : undefined);
  const ephemeral = container['is_ephemeral'] === true || !channel || !ts;
  return {
    ephemeral,
    at: channel && ts ? { channel, ts } : null,
    async update(message) {
      try {
        if (ephemeral) await args.respond({ replace_original: true, ...message });
        else await client.chat.update({ channel: channel!, ts: ts!, ...message });
      } catch (err) {
        deps.log.warn({ err: errorText(err) }, 'slack challenge message could not be updated');
      }
    },
  };
}

export function testNotice(r: TestResult, prefix = 'Test Connection'): NonNullable<ChallengeCard['notice']> {
  const ok = r.outcome === 'valid' || r.outcome === 'already_valid';
  return { tone: ok ? 'ok' : 'bad', text: `${prefix}: ${r.outcome.replace('_', ' ')}: ${r.detail}` };
}

function reconfigureNotice(
  refreshed: ChallengeContent[],
  ref: DomainRef & { profile: string },
): NonNullable<ChallengeCard['notice']> {
  if (refreshed.length === 0)
    return {
      tone: 'info',
      text: `Reconfigure: every domain of profile ${ref.profile} still has usable challenge content; nothing was refreshed.`,
    };
  const mine = refreshed.some((c) => c.domain === ref.name);
  const others = refreshed.filter((c) => c.domain !== ref.name).length;
  const parts = [
    mine
      ? 'Reconfigure: fresh challenge content for this domain (shown above); publish it again.'
      : 'Reconfigure: this domain kept its challenge content.',
  ];
  if (others > 0)
    parts.push(
      `${others} other domain${others === 1 ? '' : 's'} of profile ${ref.profile} got fresh content, posted below.`,
    );
  return { tone: 'ok', text: parts.join(' ') };
}

async function tell(deps: ListenerDeps, args: ButtonArgs, text: string): Promise<void> {
  try {
    await args.respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (err) {
    deps.log.warn({ err: errorText(err) }, 'slack domain button answer could not be delivered');
  }
}

export function challengeButtonCallback(deps: ListenerDeps, kind: ClickKind) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const userId = args.body.user.id;
    const clicked = decodeDomainRef(args.action.value);
    if (!clicked) {
      deps.log.warn({ user: userId }, 'slack challenge button without a domain; ignored');
      await tell(deps, args, 'This button does not name a domain; nothing changed.');
      return;
    }
    const ref = { name: clicked.name, profile: clicked.profile };
    const target = clickTarget(deps, args);
    let shown: Awaited<ReturnType<ListenerDeps['services']['domains']['show']>>;
    try {
      shown = await deps.services.domains.show(ref);
    } catch (err) {
      await tell(deps, args, problemText(deps, err, 'domain show'));
      return;
    }
    // An ephemeral message has no thread for the TLS files, and its response_url allows only a few edits.
    const tlsFiles: TlsFiles = target.ephemeral ? 'cli' : 'thread';
    const render = (s: typeof shown, notice: ChallengeCard['notice'], files: TlsFiles = tlsFiles) =>
      challengeMessage({ ...cardFromDomain(s.domain, s.challenge), tlsFiles: files, ...(notice ? { notice } : {}) });
    await target.update(render(shown, { tone: 'busy', text: BUSY[kind] }));
    const live = target.ephemeral
      ? null
      : throttled((line) => target.update(render(shown, { tone: 'busy', text: line })));
    const progress = (line: string) => live?.push(line);
    const actor = slackActor(userId);
    let notice: NonNullable<ChallengeCard['notice']>;
    let refreshed: ChallengeContent[] = [];
    try {
      if (kind === 'test') notice = testNotice(await deps.services.domains.test(ref, actor, progress));
      else if (kind === 'deploy') {
        const r = await deps.services.domains.deployAndTest(ref, actor, progress);
        notice = testNotice(r, `Deploy & Test (${r.published})`);
      } else {
        refreshed = await deps.services.domains.reconfigure(ref.profile, actor, progress);
        notice = reconfigureNotice(refreshed, ref);
      }
    } catch (err) {
      notice = { tone: 'bad', text: problemText(deps, err, `domain ${kind}`) };
    }
    await live?.close();
    let after = shown;
    try {
      after = await deps.services.domains.show(ref);
    } catch (err) {
      deps.log.info({ err: errorText(err) }, 'slack domain reload after a click failed; showing the earlier state');
    }
    let files: TlsFiles = tlsFiles;
    const mine = refreshed.find((c) => c.domain === ref.name);
    if (
      mine?.tls &&
      target.at &&
      !target.ephemeral &&
      !(await uploadTlsFiles(deps, args.client, target.at, after.challenge))
    )
      files = 'failed';
    await target.update(render(after, notice, files));
    const others = refreshed.filter((c) => c.domain !== ref.name);
    if (others.length > 0) {
      const poster = new Poster(deps, args.client, target.at?.channel ?? userId, userId);
      await postChallengeCards(deps, args.client, poster, await cardsFor(deps, ref.profile, others)).catch(
        (err: unknown) => {
          deps.log.warn({ err: errorText(err) }, 'slack reconfigured challenge messages could not be posted');
        },
      );
    }
  };
}

/** The domain forms' submissions and buttons. */
export function register(app: App, deps: ListenerDeps): void {
  app.view(DOMAIN_ADD_VIEW, domainAddCallback(deps));
  app.view(DOMAIN_ENDPOINT_VIEW, domainEndpointCallback(deps));
  app.view(DOMAIN_DNS_VIEW, domainDnsCallback(deps));
  app.action(TEST_CONNECTION_ACTION, challengeButtonCallback(deps, 'test'));
  app.action(DEPLOY_TEST_ACTION, challengeButtonCallback(deps, 'deploy'));
  app.action(RECONFIGURE_ACTION, challengeButtonCallback(deps, 'reconfigure'));
}
