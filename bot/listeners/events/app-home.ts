import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import {
  decodePages,
  HOME_NEXT_ACTION,
  HOME_PREV_ACTION,
  HOME_REFRESH_ACTION,
  type HomePages,
  homeErrorView,
  homeView,
  parsePageValue,
} from '../../blocks/home.ts';
import { isDatabaseUnavailable } from '../../../core/errors.ts';
import { collectHomeData } from '../../home-data.ts';
import { mayDecide } from '../approvers.ts';
import type { ListenerDeps } from '../deps.ts';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Builds and publishes one user's dashboard. Never throws: a core failure publishes a short error view
 * (with Refresh), a Slack failure is logged. Exported for listeners that change what the dashboard shows
 * (e.g. an approval decided from the Home tab) and want the clicker's view current again.
 */
export async function publishHome(
  deps: Pick<ListenerDeps, 'services' | 'log' | 'approvers' | 'approverGroups'>,
  client: AllMiddlewareArgs['client'],
  userId: string,
  pages: HomePages,
): Promise<void> {
  let view: ReturnType<typeof homeView>;
  try {
    const data = await collectHomeData(deps.services);
    // A group that cannot be resolved shows no buttons; the click handlers would refuse anyway.
    const canDecide = (await mayDecide(deps, userId)).ok;
    view = homeView(data, pages, new Date(), { canDecide });
  } catch (err) {
    if (isDatabaseUnavailable(err)) {
      deps.log.warn({ code: err.code, user: userId }, 'slack home dashboard not built: the database is unavailable');
      view = homeErrorView(err.message);
    } else {
      deps.log.error({ err: errorText(err), user: userId }, 'slack home dashboard could not be built');
      view = homeErrorView();
    }
  }
  try {
    await client.views.publish({ user_id: userId, view });
  } catch (err) {
    deps.log.warn({ err: errorText(err), user: userId }, 'slack home dashboard could not be published');
  }
}

/**
 * The App Home dashboard: published on app_home_opened (Home tab only; every open starts on page 1) and
 * re-published by its Previous/Next/Refresh buttons. Read-only and built from public views, so any user of
 * the (team-guarded) workspace may see it; the approval buttons on it are decided by the approval listeners,
 * which check SLACK_APPROVERS again.
 */
export function register(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(deps, client, event.user, {});
  });

  const page = async ({ ack, body, action, client }: ButtonArgs) => {
    await ack();
    // The pages of the other sections come from the clicked view; the button names only its own section.
    const pages = decodePages(body.view?.private_metadata);
    const asked = parsePageValue(action.value);
    if (asked) pages[asked.section] = asked.page;
    await publishHome(deps, client, body.user.id, pages);
  };
  app.action<BlockAction<ButtonAction>>(HOME_PREV_ACTION, page);
  app.action<BlockAction<ButtonAction>>(HOME_NEXT_ACTION, page);
  app.action<BlockAction<ButtonAction>>(HOME_REFRESH_ACTION, page);
}
