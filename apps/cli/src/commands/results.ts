import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import type { TranscriptFormat } from '../api/client.js';
import { HttpError } from '../api/http-error.js';
import { fileResultSchema, type FileResult, type Job } from '../api/schemas.js';
import { CliError, describeFsError } from '../errors.js';
import { EXIT, exitCodeForResults, isTerminalStatus, type ExitCode } from '../exit-codes.js';
import { missingFileLine } from '../job-format.js';
import { OutputNamer, writeFileAtomic } from '../output-files.js';
import type { CommandContext } from './context.js';

export const RESULT_FORMATS = ['ndjson', 'txt', 'srt', 'vtt', 'json'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export const TRANSCRIPT_FORMATS = ['txt', 'srt', 'vtt', 'json', 'raw'] as const satisfies readonly TranscriptFormat[];

export interface ResultsOptions {
  format: ResultFormat;
  out?: string;
  index?: number;
}

/** Results pages carry transcripts, so they are kept smaller than the API's 1000 maximum. */
const PAGE_SIZE = 200;
/** Transcript downloads in flight at once. */
const CONCURRENCY = 8;
/** Inputs without a transcript that the summary names one by one. */
const SHOWN_MISSING = 20;

/**
 * Inputs without a transcript: all counted; those that failed or were cancelled kept (the
 * first few) to be named in the summary; those merely not finished yet only counted.
 */
class MissingFiles {
  count = 0;
  pending = 0;
  failed = 0;
  readonly shown: FileResult[] = [];

  add(file: FileResult): void {
    this.count++;
    if (file.status === 'queued' || file.status === 'submitted') {
      this.pending++;
      return;
    }
    this.failed++;
    if (this.shown.length < SHOWN_MISSING) this.shown.push(file);
  }
}

interface Outcome {
  /** Inputs whose transcript is now in DIR. */
  transcribed: number;
  missing: MissingFiles;
  wrote: string;
}

/**
 * Downloads a job's results into DIR, one file per input named by its ref (or index): its
 * FileResult for `ndjson`, else its transcript. 0 when every input has a transcript in DIR, 2 when some have
 * none (listed on stderr), 1 on an error.
 */
export async function resultsCommand(ctx: CommandContext, id: string, opts: ResultsOptions): Promise<ExitCode> {
  if (opts.index !== undefined) {
    if (opts.out !== undefined) throw new CliError('give --out DIR (every transcript) or --index N (one, to stdout), not both');
    if (opts.format === 'ndjson') throw new CliError('--index prints one transcript: use --format txt, srt, vtt or json');
    return transcriptCommand(ctx, id, opts.index, { format: opts.format });
  }
  if (opts.out === undefined) throw new CliError('give --out DIR to write every transcript, or --index N to print one');
  const out = opts.out;
  const job = await ctx.client.getJob(id);
  const dir = resolve(ctx.io.cwd, out);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw new CliError(`cannot create ${out}: ${describeFsError(err)}`);
  });
  const outcome = opts.format === 'ndjson' ? await writeNdjson(ctx, job, dir) : await writeTranscripts(ctx, job, dir, opts.format);
  ctx.io.stdout.write(`${outcome.wrote} to ${out}\n`);
  if (outcome.missing.count > 0) ctx.io.stderr.write(missingSummary(job, outcome.missing));
  return exitCodeForResults(job.counts.total, outcome.transcribed);
}

/** One file's transcript on stdout, as the server renders it. */
export async function transcriptCommand(
  ctx: CommandContext,
  id: string,
  index: number,
  opts: { format: TranscriptFormat },
): Promise<ExitCode> {
  const body = await ctx.client.transcript(id, index, opts.format);
  ctx.io.stdout.write(body.endsWith('\n') || body === '' ? body : `${body}\n`);
  return EXIT.ok;
}

async function writeTranscripts(ctx: CommandContext, job: Job, dir: string, format: TranscriptFormat): Promise<Outcome> {
  // Every input takes its name in index order, with or without a transcript: names then
  // depend on the job's inputs alone and stay the same when results are fetched again.
  const namer = new OutputNamer(format);
  const missing = new MissingFiles();
  let transcribed = 0;
  let cursor: string | undefined;
  do {
    const page = await ctx.client.listResults(job.id, { limit: PAGE_SIZE, cursor });
    const ready: Array<{ file: FileResult; name: string }> = [];
    for (const file of page.data) {
      const name = outputName(namer, file);
      if (file.status === 'completed') ready.push({ file, name });
      else missing.add(file);
    }
    await forEachLimited(ready, CONCURRENCY, async ({ file, name }) => {
      let body: string;
      try {
        body = await ctx.client.transcript(job.id, file.index, format);
      } catch (err) {
        // Completed but unreadable now (expired meanwhile): report it with the others.
        if (err instanceof HttpError && err.status === 404)
          return missing.add({ ...file, error: { code: 'not_found', message: err.detail } });
        throw err;
      }
      await writeFileAtomic(join(dir, name), body).catch((err: unknown) => {
        throw new CliError(`cannot write ${join(dir, name)}: ${describeFsError(err)}`);
      });
      transcribed++;
    });
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return { transcribed, missing, wrote: `wrote ${transcribed} ${format} file${transcribed === 1 ? '' : 's'}` };
}

/**
 * Streams the NDJSON answer and writes each input's FileResult line to its own file, named as
 * the transcripts are (`<ref>.ndjson`, else `<index>.ndjson`): failed inputs get a file too,
 * since their line says why. One page of lines is in memory at a time.
 */
async function writeNdjson(ctx: CommandContext, job: Job, dir: string): Promise<Outcome> {
  const res = await ctx.client.openResultsNdjson(job.id);
  const namer = new OutputNamer('ndjson');
  const missing = new MissingFiles();
  let transcribed = 0;
  let lines = 0;
  const onLine = async (line: string) => {
    if (line.trim() === '') return;
    lines++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError('unexpected answer from the results stream: a line is not JSON');
    }
    const parsed = fileResultSchema.safeParse(value);
    if (!parsed.success) throw new CliError(`unexpected answer from the results stream at line ${lines}`);
    const path = join(dir, outputName(namer, parsed.data));
    await writeFileAtomic(path, `${line}\n`).catch((err: unknown) => {
      throw new CliError(`cannot write ${path}: ${describeFsError(err)}`);
    });
    if (parsed.data.status === 'completed') transcribed++;
    else missing.add(parsed.data);
  };
  try {
    let pending = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) {
      pending += decoder.decode(chunk, { stream: true });
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) await onLine(line);
    }
    await onLine(pending + decoder.decode());
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`the results stream broke off after ${lines} files: ${(err as Error).message}`, undefined, true);
  }
  return { transcribed, missing, wrote: `wrote ${lines} ndjson file${lines === 1 ? '' : 's'} (${transcribed} transcribed)` };
}

/**
 * Where an input's output goes: an uploaded file (from a folder or archive) keeps its ref's
 * folders; a URL's ref is one file name, as it always was.
 */
function outputName(namer: OutputNamer, file: Pick<FileResult, 'index' | 'ref' | 'upload_id'>): string {
  return file.upload_id ? namer.pathFor(file.index, file.ref) : namer.nameFor(file.index, file.ref);
}

function missingSummary(job: Job, missing: MissingFiles): string {
  const state = isTerminalStatus(job.status)
    ? `job ${job.id} is ${job.status}`
    : `job ${job.id} is still ${job.status}; fetch again when it ends`;
  const lines = [
    `${missing.count} of ${job.counts.total} files have no transcript (${state})${missing.failed > 0 ? ':' : ''}`,
    ...missing.shown.map(missingFileLine),
  ];
  if (missing.failed > missing.shown.length)
    lines.push(`  … and ${missing.failed - missing.shown.length} more (all of them: results ${job.id} --format ndjson)`);
  if (missing.failed > 0 && missing.pending > 0) lines.push(`  and ${missing.pending} not finished yet`);
  return `${lines.join('\n')}\n`;
}

/** `run` over every item, at most `limit` at once; the first failure stops the ones not yet started. */
async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<unknown>): Promise<void> {
  const limited = pLimit(limit);
  await Promise.all(
    items.map((item) =>
      limited(() => run(item)).catch((err: unknown) => {
        limited.clearQueue();
        throw err;
      }),
    ),
  );
}
