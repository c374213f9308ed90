import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps.ts';

/** The profile forms' submissions and buttons. */
export function register(_app: App, _deps: ListenerDeps): void {}
