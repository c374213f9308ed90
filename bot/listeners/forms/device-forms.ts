import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, types, ViewSubmitAction } from '@slack/bolt';
import type { DeviceTestResult, DeviceTestStage } from '../../../core/domain/device.ts';
import { isCoreError } from '../../../core/errors.ts';
import { deviceTestMessage, layerName } from '../../blocks/device-test.ts';
import {
  addDeviceInput,
  DEVICE_ADD_VIEW,
  DEVICE_BLOCK,
  decodeDeviceMetadata,
  deviceAddedView,
  deviceAddView,
  deviceTestingView,
  parseDeviceForm,
} from '../../modals/device-add.ts';
import { errorText, slackActor } from '../approvers.ts';
import { setupRequestNotice } from '../../modals/serve-request.ts';
import { serveRequestViewFor } from './serve-forms.ts';
import type { ListenerDeps } from '../deps.ts';
import { replyError } from '../../reply-error.ts';
import { admitNewObject } from './admit-new-object.ts';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

const STAGES: readonly DeviceTestStage[] = ['url', 'dns', 'tcp', 'tls', 'credentials', 'api'];

/** The core refuses a failed connection test with `detail.stage`; read back as a test result for the form. */
function failedTest(err: unknown): DeviceTestResult | undefined {
  if (!isCoreError(err)) return undefined;
  const stage = err.detail?.['stage'];
  if (typeof stage !== 'string' || !(STAGES as readonly string[]).includes(stage)) return undefined;
  return { ok: false, stage: stage as DeviceTestStage, message: err.message };
}

/**
 * "Add": admin re-checked, fields checked with the core's rules (inline errors), then the connection test
 * after a fast "Testing…" ack. A failed test adds nothing and brings the form back, filled in except the
 * password, with the layer that failed.
 */
export function deviceAddCallback(deps: ListenerDeps) {
  return async (args: SubmitArgs): Promise<void> => {
    const { ack, body, view, client } = args;
    const userId = body.user.id;
    const admitted = await admitNewObject(args, deps, {
      what: 'device',
      nameBlock: DEVICE_BLOCK.name,
      parse: () => {
        const parsed = parseDeviceForm(view.state.values);
        return parsed.ok ? { ok: true, value: parsed } : parsed;
      },
      nameOf: (parsed) => parsed.draft.name,
      show: (name) => deps.services.devices.show(name),
    });
    if (!admitted) return;
    const { draft, password } = admitted;
    await ack({ response_action: 'update', view: deviceTestingView(draft) });

    const { channel, setupProfile } = decodeDeviceMetadata(view.private_metadata);
    let next: types.ModalView;
    try {
      const { device, test } = await deps.services.devices.add(addDeviceInput(draft, password), slackActor(userId));
      deps.log.info({ user: userId, device: device.name }, 'slack device added');
      // `/acme setup`, step 3: the request form, with the profile and this device chosen (decision 0035).
      next = setupProfile
        ? await serveRequestViewFor(
            deps.services,
            { ...(channel ? { channel } : {}), profile: setupProfile, device: device.name },
            { notice: setupRequestNotice(device.name) },
          )
        : deviceAddedView(device, test);
      if (channel && test && !setupProfile) {
        try {
          const message = deviceTestMessage(device.name, test);
          await client.chat.postEphemeral({
            channel,
            user: userId,
            text: `Device ${message.text}`,
            blocks: message.blocks,
          });
        } catch (err) {
          deps.log.warn({ err: errorText(err), user: userId }, 'slack device confirmation could not be posted');
        }
      }
    } catch (err) {
      const test = failedTest(err);
      let error: string;
      if (test) {
        deps.log.info(
          { user: userId, device: draft.name, stage: test.stage },
          'slack device not added: connection test failed',
        );
        error = `Not added: the ${layerName(test.stage)} check failed. Fix it and submit again (the password has to be typed again).`;
      } else {
        error = `Not added: ${replyError(err, deps.log, { what: 'slack device add', fields: { user: userId } })}`;
      }
      next = deviceAddView({ draft, error, ...(test ? { test } : {}), metadata: view.private_metadata });
    }
    try {
      await client.views.update({ view_id: view.id, view: next });
    } catch (err) {
      deps.log.warn({ err: errorText(err) }, 'slack device form could not be updated (closed?)');
    }
  };
}

/** The device forms' submissions. */
export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>({ callback_id: DEVICE_ADD_VIEW, type: 'view_submission' }, deviceAddCallback(deps));
}
