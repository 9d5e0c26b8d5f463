import type { FileResult, Job } from './api/schemas.js';

/** Files that reached an end state (what the progress bar counts). */
export function filesDone(job: Job): number {
  return job.counts.completed + job.counts.failed + job.counts.cancelled;
}

export function countsPhrase(job: Job): string {
  const { completed, failed, cancelled } = job.counts;
  return `${completed} completed, ${failed} failed${cancelled > 0 ? `, ${cancelled} cancelled` : ''}`;
}

/** One progress line for logs and pipes. */
export function progressLine(job: Job, eta: string): string {
  return `${job.id} ${job.status} ${job.progress}% · ${filesDone(job)}/${job.counts.total} files (${countsPhrase(job)}) · ETA ${eta}`;
}

/** The last line of `submit --wait`/`watch`: how the job ended. */
export function endLine(job: Job): string {
  const { total, completed } = job.counts;
  const failedNote = job.counts.failed + job.counts.cancelled > 0 ? ` (${countsPhrase(job)})` : '';
  const error = job.error ? `; ${job.error.code}: ${job.error.message}` : '';
  return `${job.id} ${job.status}: ${completed} of ${total} files transcribed${failedNote}${error}`;
}

/** `status` for people; `--json` prints the Job as the API gave it. */
export function jobDetails(job: Job): string {
  const c = job.counts;
  const rows: Array<[string, string | null | undefined]> = [
    ['status', job.status],
    ['name', job.name],
    ['model', job.model],
    ['priority', job.priority],
    ['progress', `${job.progress}%`],
    [
      'files',
      `${c.total} total: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.queued} queued, ${c.submitted} submitted`,
    ],
    ['created', job.created_at],
    ['finished', job.finished_at],
    ['error', job.error ? `${job.error.code}: ${job.error.message}` : null],
    [
      'webhook',
      job.webhook
        ? `${job.webhook.status} after ${job.webhook.attempts} attempt(s)${job.webhook.last_error ? `; ${job.webhook.last_error}` : ''}`
        : null,
    ],
  ];
  const lines = rows
    .filter((row): row is [string, string] => typeof row[1] === 'string' && row[1] !== '')
    .map(([k, v]) => `  ${`${k}:`.padEnd(10)} ${v}`);
  return `${job.id}\n${lines.join('\n')}\n`;
}

/** `list` for people: one aligned row per job. */
export function jobTable(jobs: readonly Job[], header: boolean): string {
  const rows = jobs.map((job) => [
    job.id,
    job.status,
    `${job.progress}%`,
    `${job.counts.completed}/${job.counts.total}`,
    String(job.counts.failed),
    job.created_at,
    job.name ?? '',
  ]);
  if (header) rows.unshift(['ID', 'STATUS', 'PROGRESS', 'DONE', 'FAILED', 'CREATED', 'NAME']);
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows
    .map(
      (row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}

/** One line per input without a transcript, for the summary `results` prints on stderr. */
export function missingFileLine(file: Pick<FileResult, 'index' | 'ref' | 'status' | 'error' | 'file_url'>): string {
  const ref = file.ref ? ` (ref ${file.ref})` : '';
  const why = file.error ? `: ${file.error.code}: ${file.error.message}` : '';
  return `  file ${file.index}${ref} ${file.status}${why} — ${file.file_url}`;
}
