import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { APPROVE_ACTION, DENY_ACTION } from '../../blocks/approval.ts';
import type { ApprovalDeps } from '../approvers.ts';
import { approveCallback, denyCallback } from './approval.ts';

export function register(app: App, deps: ApprovalDeps): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approveCallback(deps));
  app.action<BlockAction<ButtonAction>>(DENY_ACTION, denyCallback(deps));
}
