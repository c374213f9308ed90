import type { ScenarioResult } from './result.ts';

/** What every scenario gets from the runner. */
export interface ScenarioContext {
  /** A progress line for the person watching (stderr). */
  progress(line: string): void;
  /** Lifetime of the CA-outage scenario's certificates, in seconds. */
  caLifetimeSeconds: number;
}

export interface Scenario {
  /** Name for --only. */
  id: string;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
