import { sql } from 'drizzle-orm';
import type { JobRun, JobRunRepository } from '../../core/ports/repositories/job-runs.ts';
import { jobRuns } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

export type JobRunRow = typeof jobRuns.$inferSelect;

/**
 * When the job last succeeded rides in `last_detail` under this key (no column of its own yet: see decision
 * 0032). It is carried over by every later run and taken out again here, so callers see the run's report only.
 */
const SUCCEEDED_KEY = 'lastSucceededAt';

export function jobRunFromRow(row: JobRunRow): JobRun {
  const { [SUCCEEDED_KEY]: succeeded, ...detail } = row.lastDetail ?? {};
  const at = typeof succeeded === 'string' ? new Date(succeeded) : null;
  return {
    ...row,
    lastDetail: row.lastDetail === null ? null : detail,
    lastSucceededAt: at && !Number.isNaN(at.getTime()) ? at : null,
  };
}

export function createJobRunRepository(db: DrizzleDb): JobRunRepository {
  return {
    async started(job, holder, at) {
      await db
        .insert(jobRuns)
        .values({ job, holder, lastStartedAt: at })
        .onConflictDoUpdate({ target: jobRuns.job, set: { holder, lastStartedAt: at } });
    },
    async finished(job, result, detail, at) {
      const { [SUCCEEDED_KEY]: _reserved, ...report } = detail;
      const succeeded = result === 'ok' ? { ...report, [SUCCEEDED_KEY]: at.toISOString() } : null;
      await db
        .insert(jobRuns)
        .values({ job, lastFinishedAt: at, lastResult: result, lastDetail: succeeded ?? report })
        .onConflictDoUpdate({
          target: jobRuns.job,
          set: {
            lastFinishedAt: at,
            lastResult: result,
            // In one statement, so replicas finishing runs at once cannot lose the time of a success.
            lastDetail:
              succeeded ??
              sql`${JSON.stringify(report)}::jsonb || jsonb_build_object(${SUCCEEDED_KEY}::text, ${jobRuns.lastDetail} -> ${SUCCEEDED_KEY}::text)`,
          },
        });
    },
    async list() {
      return (await db.select().from(jobRuns).orderBy(jobRuns.job)).map(jobRunFromRow);
    },
  };
}
