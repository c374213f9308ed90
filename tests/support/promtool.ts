import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

/** True when Prometheus's `promtool` is on PATH (Debian: apt-get install prometheus). */
export function promtoolAvailable(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A suite that needs promtool: skipped with a visible notice when it is missing, an error when
 * REQUIRE_PROMTOOL=1 (CI sets it), as `describeWithPebble` does for Pebble.
 */
export function describeWithPromtool(name: string, fn: () => void): void {
  if (promtoolAvailable()) {
    describe(name, fn);
    return;
  }
  const msg = 'promtool not found on PATH (apt-get install --no-install-recommends prometheus)';
  if (process.env['REQUIRE_PROMTOOL'] === '1') throw new Error(`REQUIRE_PROMTOOL=1 but ${msg}`);
  console.warn(`\n*** SKIPPING promtool suites: ${msg}. Set REQUIRE_PROMTOOL=1 to make this an error. ***\n`);
  describe.skip(`${name} (skipped: promtool not installed)`, fn);
}
