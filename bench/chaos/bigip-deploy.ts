import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

export async function bigipDeploy(_ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = emptyResult('bigip-deploy');
  r.error = 'not written yet';
  return r;
}
