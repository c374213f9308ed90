import type { App, ViewSubmitAction } from '@slack/bolt';
import { DENY_VIEW } from '../../blocks/approval.ts';
import type { ApprovalDeps } from '../approvers.ts';
import { denyReasonCallback } from './deny-reason.ts';

export function register(app: App, deps: ApprovalDeps): void {
  app.view<ViewSubmitAction>({ callback_id: DENY_VIEW, type: 'view_submission' }, denyReasonCallback(deps));
}
