import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

export async function databaseRestart(_ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = emptyResult('database-restart');
  r.error = 'not written yet';
  return r;
}
