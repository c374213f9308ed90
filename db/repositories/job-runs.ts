import type { JobRun, JobRunRepository } from '../../core/ports/repositories/job-runs.ts';
import { jobRuns } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

export type JobRunRow = typeof jobRuns.$inferSelect;

/** The row is the port's shape column for column; the signature makes the compiler check it stays so. */
export function jobRunFromRow(row: JobRunRow): JobRun {
  return row;
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
      await db
        .insert(jobRuns)
        .values({ job, lastFinishedAt: at, lastResult: result, lastDetail: detail })
        .onConflictDoUpdate({
          target: jobRuns.job,
          set: { lastFinishedAt: at, lastResult: result, lastDetail: detail },
        });
    },
    async list() {
      return (await db.select().from(jobRuns).orderBy(jobRuns.job)).map(jobRunFromRow);
    },
  };
}
