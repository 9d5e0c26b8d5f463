/**
 * Exit codes scripts can rely on (documented in the README and in --help):
 * 0 the job is done and every file was transcribed (or, for commands that do not wait, the
 * request succeeded); 2 the job ended with some file not transcribed; 1 any error.
 */
export const EXIT = { ok: 0, error: 1, incomplete: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const TERMINAL_STATUSES: readonly string[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

export function isTerminalStatus(status: string): boolean {
  return TERMINAL_STATUSES.includes(status);
}

interface JobOutcome {
  status: string;
  counts: { total: number; completed: number };
}

/** A job that has ended: 0 when every file was transcribed, else 2. */
export function exitCodeForEndedJob(job: JobOutcome): ExitCode {
  return job.status === 'completed' && job.counts.completed === job.counts.total ? EXIT.ok : EXIT.incomplete;
}

/**
 * `status`: a job still queued or running is not a failure of the command, so 0; once ended,
 * the same rule as `watch` (0 all transcribed, 2 not).
 */
export function exitCodeForStatus(job: JobOutcome): ExitCode {
  return isTerminalStatus(job.status) ? exitCodeForEndedJob(job) : EXIT.ok;
}

/**
 * `results`: 0 only when DIR now holds a transcript for every input; 2 when some input has
 * none (failed, cancelled, or the job is not finished yet).
 */
export function exitCodeForResults(total: number, transcribed: number): ExitCode {
  return transcribed === total ? EXIT.ok : EXIT.incomplete;
}
