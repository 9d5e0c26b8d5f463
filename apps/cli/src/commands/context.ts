import type { ApiClient } from '../api/client.js';
import type { Job } from '../api/schemas.js';
import type { CliIo } from '../io.js';
import { endLine } from '../job-format.js';
import { watchJob } from '../job-watcher.js';
import { createProgressReporter } from '../progress.js';

/** What every command gets: the process's streams and clock, and an API client. */
export interface CommandContext {
  io: CliIo;
  client: ApiClient;
}

/**
 * Shows progress until the job ends and returns its final state; the line saying how it
 * ended goes to `endTo`.
 */
export async function followToEnd(ctx: CommandContext, job: Job, opts: { progress: boolean; endTo: 'stdout' | 'stderr' }): Promise<Job> {
  const reporter = createProgressReporter(ctx.io, opts.progress);
  let final: Job;
  try {
    reporter.update(job);
    final = await watchJob(ctx.client, job.id, {
      onJob: (j) => reporter.update(j),
      sleep: ctx.io.sleep,
      pollIntervalMs: ctx.io.pollIntervalMs,
    });
  } finally {
    reporter.stop();
  }
  ctx.io[opts.endTo].write(`${endLine(final)}\n`);
  return final;
}

export function writeJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value)}\n`);
}
