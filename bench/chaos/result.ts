/**
 * One scenario's tally and the table the suite prints. Items are what a scenario must carry through its
 * faults (certificates, deploys, acknowledged writes, challenge answers); each ends survived, lost or
 * duplicated. Exits are unplanned exits of the processes under test (the SIGKILLs the suite injects itself
 * are faults, not exits). Breaches are hostile requests that were not refused.
 */
export interface ScenarioResult {
  scenario: string;
  faults: number;
  expected: number;
  survived: number;
  lost: number;
  duplicated: number;
  exits: number;
  breached: number;
  seconds: number;
  /** One line per finding, for the person reading the run. */
  notes: string[];
  /** Set when the scenario itself could not run to the end (set-up failed, harness error). */
  error?: string;
}

export function emptyResult(scenario: string): ScenarioResult {
  return {
    scenario,
    faults: 0,
    expected: 0,
    survived: 0,
    lost: 0,
    duplicated: 0,
    exits: 0,
    breached: 0,
    seconds: 0,
    notes: [],
  };
}

export function passed(r: ScenarioResult): boolean {
  return (
    !r.error && r.lost === 0 && r.duplicated === 0 && r.exits === 0 && r.breached === 0 && r.survived === r.expected
  );
}

export function verdict(r: ScenarioResult): string {
  if (r.error) return 'ERROR';
  return passed(r) ? 'pass' : 'FAIL';
}

const COLUMNS = [
  'scenario',
  'faults',
  'survived',
  'lost',
  'duplicated',
  'exits',
  'breached',
  'seconds',
  'verdict',
] as const;

function cells(r: ScenarioResult): string[] {
  return [
    r.scenario,
    String(r.faults),
    `${r.survived}/${r.expected}`,
    String(r.lost),
    String(r.duplicated),
    String(r.exits),
    String(r.breached),
    r.seconds.toFixed(0),
    verdict(r),
  ];
}

/** A Markdown table (it reads as plain text too, and pastes into bench/RESULTS.md as is). */
export function renderTable(results: ScenarioResult[], wallSeconds?: number): string {
  const rows = [COLUMNS.map(String), ...results.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const totals = emptyResult('total');
  for (const r of results) {
    totals.faults += r.faults;
    totals.expected += r.expected;
    totals.survived += r.survived;
    totals.lost += r.lost;
    totals.duplicated += r.duplicated;
    totals.exits += r.exits;
    totals.breached += r.breached;
    totals.seconds += r.seconds;
    totals.error ??= r.error;
  }
  // Scenarios may run side by side, so the total's time is the run's wall time, not a sum.
  totals.seconds = wallSeconds ?? totals.seconds;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line), ...(results.length > 1 ? [line(cells(totals))] : [])].join(
    '\n',
  );
}
