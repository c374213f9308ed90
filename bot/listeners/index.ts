import type { App } from '@slack/bolt';
import * as actions from './actions/index.ts';
import * as commands from './commands/index.ts';
import type { ListenerDeps } from './deps.ts';
import * as appHome from './events/app-home.ts';
import * as bindingForms from './forms/binding-forms.ts';
import * as certForms from './forms/cert-forms.ts';
import * as deviceForms from './forms/device-forms.ts';
import * as domainForms from './forms/domain-forms.ts';
import * as profileForms from './forms/profile-forms.ts';
import * as serveForms from './forms/serve-forms.ts';
import * as views from './views/index.ts';

export type { ListenerDeps } from './deps.ts';

/** Every listener registers here: the command, the approval buttons and deny modal, the forms, App Home. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  profileForms.register(app, deps);
  deviceForms.register(app, deps);
  domainForms.register(app, deps);
  certForms.register(app, deps);
  bindingForms.register(app, deps);
  serveForms.register(app, deps);
  appHome.register(app, deps);
}
