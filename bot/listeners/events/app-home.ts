import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps.ts';

/** The App Home dashboard: published on app_home_opened, paged by its buttons. */
export function register(_app: App, _deps: ListenerDeps): void {}
