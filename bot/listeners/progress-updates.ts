import type { Logger } from '../../core/ports/logger.ts';
import type { BotMessage } from '../blocks/message.ts';
import { errorText } from './approvers.ts';

// Progress of long work, shown in Slack without exceeding what Slack takes: two throttles for two budgets.

/**
 * Updates one message in place from a stream of progress, within a budget: Slack takes a response_url
 * about 5 times in 30 minutes, and chat.update about once a second. Progress is sent at most once per
 * `minMs` and never with the last allowed send, which `final` keeps; everything is sent in order.
 */
export function progressUpdates(
  send: (message: BotMessage) => Promise<unknown>,
  log: Logger,
  opts: { minMs: number; maxSends?: number },
): { progress(message: BotMessage): void; final(message: BotMessage): Promise<void> } {
  let sent = 0;
  let last = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const queue = (message: BotMessage) => {
    sent++;
    chain = chain
      .then(() => send(message))
      .catch((err) => log.warn({ err: errorText(err) }, 'slack progress update could not be delivered'));
  };
  return {
    progress(message) {
      const now = Date.now();
      if (now - last < opts.minMs) return;
      if (opts.maxSends !== undefined && sent >= opts.maxSends - 1) return;
      last = now;
      queue(message);
    },
    async final(message) {
      queue(message);
      await chain;
    },
  };
}

/**
 * Sends the latest of a stream of progress lines at most once per `minMs`, in order; `close()` drops what
 * is still waiting and waits for what is in flight, so a final update is never overtaken by a stale one.
 */
export function throttled(
  send: (text: string) => Promise<unknown>,
  minMs = 1000,
): { push: (text: string) => void; close: () => Promise<void> } {
  let latest: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let last = 0;
  let closed = false;
  return {
    push(text) {
      if (closed) return;
      latest = text;
      if (timer) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          const next = latest;
          latest = null;
          last = Date.now();
          if (next !== null && !closed) chain = chain.then(() => send(next)).catch(() => {});
        },
        Math.max(0, last + minMs - Date.now()),
      );
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await chain;
    },
  };
}
