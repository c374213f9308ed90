import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps.ts';

/** The device forms' submissions and buttons. */
export function register(_app: App, _deps: ListenerDeps): void {}
