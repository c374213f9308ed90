import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

export async function caOutage(_ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = emptyResult('ca-outage');
  r.error = 'not written yet';
  return r;
}
