import type { Command } from 'commander';
import { shortTime } from '../../core/domain/certificate-health.ts';
import { jobItems, jobResult } from '../../core/domain/job-run.ts';
import { JOB_NAMES, parseJobName } from '../../core/services/jobs.ts';
import { itemsText } from '../../core/services/status-text.ts';
import type { CommandKit } from '../command-kit.ts';
import { table } from '../output.ts';

/** `jobs`: run a scheduled job now, and how each one went. */
export function registerJobCommands(program: Command, kit: CommandKit): void {
  const { action } = kit;
  const jobs = program.command('jobs').description('the scheduled jobs: renewal, auto deploy, reconfigure, cleanup');

  jobs
    .command('run <job>')
    .description(
      `run one job now (${JOB_NAMES.join(', ')}); safe next to running workers (leases). Exit code 1 when items failed`,
    )
    .action(
      action(async (rt, out, job: string) => {
        const name = parseJobName(job);
        const detail = await rt.services.jobs.run(name, out.progress);
        const items = jobItems(detail);
        const result = jobResult(items);
        out.result({ job: name, result, items, ...detail }, () =>
          [
            `result: ${result} (${itemsText(items)})`,
            ...Object.entries(detail).map(
              ([k, v]) =>
                `${k}: ${Array.isArray(v) ? (v.length === 0 ? '-' : v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')) : String(v)}`,
            ),
          ].join('\n'),
        );
        if (items.failed > 0) kit.setExitCode(1);
      }),
    );

  jobs
    .command('status')
    .description(
      'each job: its schedule, last run and result (ok, partial, failed, error) with how many items succeeded and failed, and next run',
    )
    .action(
      action(async (rt, out) => {
        const rows = (await rt.services.status.jobs()).map((j) => ({
          job: j.job,
          schedule: j.schedule,
          lastStarted: j.lastStartedAt,
          lastFinished: j.lastFinishedAt,
          lastResult: j.lastResult,
          items: j.items,
          failed: j.failed,
          error: j.error,
          timing: j.timing,
          nextRun: j.nextRun,
          holder: j.holder,
          description: j.description,
        }));
        out.result(rows, () => {
          const shown = rows.map((r) => ({
            ...r,
            lastStarted: r.lastStarted ? shortTime(r.lastStarted) : 'never',
            lastResult:
              r.timing === 'on_schedule' || r.timing === 'never_run'
                ? r.lastResult
                : `${r.lastResult ?? '-'} (${r.timing})`,
            items: itemsText(r.items),
            nextRun: r.nextRun ? shortTime(r.nextRun) : null,
          }));
          const problems = rows.flatMap((r) => [
            ...(r.error ? [`${r.job}: stopped with ${r.error.code}: ${r.error.message}`] : []),
            ...r.failed.map((f) => `${r.job}: ${f.name}${f.device ? ` on ${f.device}` : ''} failed: ${f.message}`),
          ]);
          return [
            table(shown, ['job', 'schedule', 'lastStarted', 'lastResult', 'items', 'nextRun', 'holder']),
            ...(problems.length ? ['', 'Failed in the last runs:', ...problems.map((p) => `  ${p}`)] : []),
          ].join('\n');
        });
      }),
    );
}
