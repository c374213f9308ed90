/**
 * A worker replica for multi-process tests: the production composition root (`openRuntime`) and the same
 * `jobs.run` the scheduler calls, fired on command instead of by croner so a test can fire several replicas
 * at the same moment many times. Reads job names (`renew`, `deploy`) one per line on stdin and answers each
 * with one JSON line on stdout. Configured only by the environment, like `bigip-acme serve --role worker`.
 */
import { createInterface } from 'node:readline';
import pino from 'pino';
import { loadConfig } from '../../core/config.ts';
import { parseJobName } from '../../core/services/jobs.ts';
import { openRuntime } from '../../runtime.ts';

const rt = await openRuntime(
  loadConfig(process.env),
  pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2)),
);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const job = line.trim();
  if (!job) continue;
  try {
    const detail = await rt.services.jobs.run(parseJobName(job));
    process.stdout.write(`${JSON.stringify({ job, ok: true, detail })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ job, ok: false, error: (err as Error).message })}\n`);
  }
}
await rt.close();
