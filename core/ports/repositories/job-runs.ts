export interface JobRun {
  job: string;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastResult: string | null;
  /** When a run last finished `ok` (nothing failed), kept across later runs that did not; null: never. */
  lastSucceededAt: Date | null;
  lastDetail: Record<string, unknown> | null;
  holder: string | null;
}

export interface JobRunRepository {
  started(job: string, holder: string, at: Date): Promise<void>;
  finished(job: string, result: string, detail: Record<string, unknown>, at: Date): Promise<void>;
  list(): Promise<JobRun[]>;
}
