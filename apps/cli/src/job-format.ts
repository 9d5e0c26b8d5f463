import type { FileResult, Job } from './api/schemas.js';

/** Files that reached an end state, transcribed or not (what the time estimate follows). */
export function filesEnded(job: Job): number {
  return job.counts.completed + job.counts.failed + job.counts.cancelled;
}

/**
 * Percent of the files transcribed, floored. Failed and cancelled files are shown on their own,
 * never as progress: a cancelled job with nothing transcribed is at 0%, not 90%.
 */
export function transcribedPercent(job: Job): number {
  return job.counts.total === 0 ? 0 : Math.floor((job.counts.completed / job.counts.total) * 100);
}

export function countsPhrase(job: Job): string {
  const { completed, failed, cancelled } = job.counts;
  return `${completed} completed, ${failed} failed${cancelled > 0 ? `, ${cancelled} cancelled` : ''}`;
}

/** Where every file is: transcribed, failed, cancelled, at foxapi (submitted), waiting (queued). */
export function whereFilesAre(job: Job): string {
  const c = job.counts;
  return `${c.completed}/${c.total} transcribed (${transcribedPercent(job)}%) · ${c.failed} failed · ${c.cancelled} cancelled · ${c.submitted} submitted · ${c.queued} queued`;
}

/** One progress line for logs and pipes. */
export function progressLine(job: Job, eta: string): string {
  return `${job.id} ${job.status} · ${whereFilesAre(job)} · ETA ${eta}`;
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
    ['progress', `${transcribedPercent(job)}% transcribed (${c.completed} of ${c.total} files)`],
    [
      'files',
      `${c.total} total: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.submitted} submitted, ${c.queued} queued`,
    ],
    ['waiting', job.waiting_reason ? `${job.waiting_reason.code}: ${job.waiting_reason.message}` : null],
    ['audio', job.usage ? usagePhrase(job.usage) : null],
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

function usagePhrase(usage: NonNullable<Job['usage']>): string {
  const billed = usage.billed_seconds === null || usage.billed_seconds === undefined ? '' : `, ${formatHours(usage.billed_seconds)} billed`;
  const reused = usage.reused_files ? `, ${usage.reused_files} files reused` : '';
  return `${formatHours(usage.audio_seconds)} transcribed${billed}${reused}`;
}

/** `0:00:42`, `12:05:00`: hours of audio, as usage is counted. */
export function formatHours(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** `list` for people: one aligned row per job. */
export function jobTable(jobs: readonly Job[], header: boolean): string {
  const rows = jobs.map((job) => [
    job.id,
    job.status,
    `${job.counts.completed}/${job.counts.total}`,
    String(job.counts.failed),
    String(job.counts.cancelled),
    job.created_at,
    job.name ?? '',
  ]);
  return table(header ? [['ID', 'STATUS', 'TRANSCRIBED', 'FAILED', 'CANCELLED', 'CREATED', 'NAME'], ...rows] : rows);
}

/** Rows as aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly string[][]): string {
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
export function missingFileLine(
  file: Pick<FileResult, 'index' | 'ref' | 'status' | 'error' | 'file_url' | 'upload_id' | 'filename'>,
): string {
  const ref = file.ref ? ` (ref ${file.ref})` : '';
  const why = file.error ? `: ${file.error.code}: ${file.error.message}` : '';
  const media = file.file_url ?? [file.filename, file.upload_id && `(${file.upload_id})`].filter(Boolean).join(' ');
  return `  file ${file.index}${ref} ${file.status}${why}${media ? ` — ${media}` : ''}`;
}
