import type { RespondFn, webApi } from '@slack/bolt';
import type { BotMessage } from '../../blocks/message.ts';
import type { ListenerDeps } from '../deps.ts';

/**
 * One `/acme` invocation, after the ack and the admin check: who ran it, where, and how to answer. Area
 * handlers (profile, domain, cert, device) take this instead of Bolt's arguments so they stay small.
 */
export interface CommandContext extends ListenerDeps {
  userId: string;
  teamId: string;
  channelId: string;
  /** Opens a modal within 3 s of the command; works once. */
  triggerId: string;
  client: webApi.WebClient;
  respond: RespondFn;
  /** Answers ephemerally through the command's response_url (undeliverable answers are logged, not thrown). */
  reply(message: BotMessage): Promise<void>;
}
