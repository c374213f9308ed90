import type { Command } from 'commander';
import { JOB_DESCRIPTIONS, JOB_NAMES, nextRunsOf, parseJobName } from '../core/services/jobs.ts';
import type { CommandKit } from './device-commands.ts';
import { table } from './output.ts';
import { jobPatterns } from './serve.ts';

export function registerJobCommands(program: Command, kit: CommandKit): void {
  const { action, actor } = kit;
  const jobs = program.command('jobs').description('the scheduled jobs: renewal, auto deploy, reconfigure, cleanup');

  jobs
    .command('run <job>')
    .description(`run one job now (${JOB_NAMES.join(', ')}); safe next to running workers (leases)`)
    .action(
      action(async (rt, out, job: string) => {
        const name = parseJobName(job);
        const detail = await rt.services.jobs.run(name, out.progress);
        out.result({ job: name, ...detail }, () =>
          Object.entries(detail)
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? (v.length === 0 ? '-' : v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')) : String(v)}`)
            .join('\n'),
        );
        const failed = (detail as { failed?: unknown[] }).failed;
        if (Array.isArray(failed) && failed.length > 0) kit.setExitCode(1);
      }),
    );

  jobs
    .command('status')
    .description('each job: what it does, its schedule, last run and next run')
    .action(
      action(async (rt, out) => {
        const patterns = jobPatterns(rt.config);
        const next = nextRunsOf(patterns);
        const runs = new Map((await rt.store.jobRuns.list()).map((r) => [r.job, r]));
        const rows = JOB_NAMES.map((job) => {
          const run = runs.get(job);
          return {
            job,
            schedule: patterns[job],
            lastStarted: run?.lastStartedAt ?? null,
            lastResult: run?.lastResult ?? null,
            nextRun: next[job],
            holder: run?.holder ?? null,
            description: JOB_DESCRIPTIONS[job],
          };
        });
        out.result(rows, () => table(rows, ['job', 'schedule', 'lastStarted', 'lastResult', 'nextRun', 'holder']));
      }),
    );

  const approval = program.command('approval').description('semi-automatic mode: renewals and deploys waiting for a decision');

  approval
    .command('list')
    .description('approvals (pending by default)')
    .option('--all', 'every state, newest first')
    .action(
      action(async (rt, out, o: { all?: boolean }) => {
        const rows = await rt.services.approvals.list(o.all ? undefined : 'pending');
        out.result(rows, () => table(rows.map((r) => ({ ...r, what: JSON.stringify(r.summary) })), ['id', 'kind', 'certificateName', 'state', 'requestedAt', 'decidedBy', 'what']));
      }),
    );

  approval
    .command('approve <id>')
    .description('approve; the next scheduled run acts on a renewal or deploy, `cert resume` issues a requested certificate')
    .action(
      action(async (rt, out, id: string) => {
        const a = await rt.services.approvals.approve(id, actor());
        out.result(a, () =>
          a.kind === 'issuance'
            ? `approved issuance of ${a.certificateName} (${a.id}); issue it now with: bigip-acme cert resume ${a.certificateName}`
            : `approved ${a.kind} of ${a.certificateName} (${a.id})`,
        );
      }),
    );

  approval
    .command('deny <id>')
    .description('deny with a reason; asked again after a day')
    .requiredOption('--reason <text>', 'why (recorded and shown)')
    .action(
      action(async (rt, out, id: string, o: { reason: string }) => {
        const a = await rt.services.approvals.deny(id, actor(), o.reason);
        out.result(a, () => `denied ${a.kind} of ${a.certificateName} (${a.id}): ${a.reason}`);
      }),
    );
}
