import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HttpError } from '../api/http-error.js';
import type { FieldError } from '../api/schemas.js';
import { CliError, describeFsError } from '../errors.js';
import { EXIT, exitCodeForEndedJob, type ExitCode } from '../exit-codes.js';
import { parseSubmitInput, type InputFormat, type SubmitInput } from '../input.js';
import { readAll, type CliIo } from '../io.js';
import { followToEnd, writeJson, type CommandContext } from './context.js';

export interface SubmitOptions {
  model?: string;
  lang?: string[];
  name?: string;
  callback?: string;
  priority?: string;
  idempotencyKey?: string;
  reuse?: boolean;
  inputFormat?: InputFormat;
  wait?: boolean;
  progress: boolean;
  json?: boolean;
}

export async function submitCommand(ctx: CommandContext, file: string, opts: SubmitOptions): Promise<ExitCode> {
  const { text, source } = await readInput(ctx.io, file);
  const input = parseSubmitInput(text, source, opts.inputFormat);
  const { job, replayed } = await ctx.client.submit(jobBody(input, opts), opts.idempotencyKey).catch((err: unknown) => {
    throw err instanceof HttpError && err.fieldErrors.length > 0
      ? err.withDetails(err.fieldErrors.map((e) => inInput(e, input, source)))
      : err;
  });
  const batches = job.batches ? ` in ${job.batches.total} batch${job.batches.total === 1 ? '' : 'es'}` : '';
  ctx.io.stderr.write(
    replayed
      ? `${job.id} was already submitted with this idempotency key (status ${job.status})\n`
      : `submitted ${job.id}: ${job.counts.total} file${job.counts.total === 1 ? '' : 's'}${batches}${job.priority ? `, priority ${job.priority}` : ''}\n`,
  );
  if (!opts.json) ctx.io.stdout.write(`${job.id}\n`);
  if (!opts.wait) {
    if (opts.json) writeJson(ctx, job);
    return EXIT.ok;
  }
  const final = await followToEnd(ctx, job, { progress: opts.progress, endTo: 'stderr' });
  if (opts.json) writeJson(ctx, final);
  return exitCodeForEndedJob(final);
}

/** The `POST /v1/jobs` body: `files` when any input has a ref, else `file_urls`; flags win over fields from a JSON input. */
export function jobBody(input: SubmitInput, opts: Omit<SubmitOptions, 'progress'>): Record<string, unknown> {
  const withRefs = input.files.some((f) => f.ref !== undefined);
  const flags: Record<string, unknown> = {
    model: opts.model,
    language_hints: opts.lang,
    name: opts.name,
    callback_url: opts.callback,
    priority: opts.priority,
    reuse: opts.reuse ? true : undefined,
  };
  return {
    ...input.fields,
    ...(withRefs ? { files: input.files } : { file_urls: input.files.map((f) => f.url) }),
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  };
}

/** The API's `file_urls.3` or `files.3.ref` as the input's own place: `urls.txt line 5 (ref)`. */
function inInput(error: FieldError, input: SubmitInput, source: string): string {
  const match = /^(?:file_urls|files)\.(\d+)(?:\.(.+))?$/.exec(error.path);
  const where = match ? input.locations[Number(match[1])] : undefined;
  if (!match || !where) return `${error.path}: ${error.message}`;
  return `${source} ${where}${match[2] ? ` (${match[2]})` : ''}: ${error.message}`;
}

/** FILE's text, or stdin's for `-`; relative paths are taken from where the user ran the command. */
export async function readInput(io: CliIo, file: string): Promise<{ text: string; source: string }> {
  if (file === '-') {
    if (io.stdin.isTTY) io.stderr.write('reading URLs from stdin, one per line; end with Ctrl-D\n');
    return { text: await readAll(io.stdin), source: 'stdin' };
  }
  try {
    return { text: await readFile(resolve(io.cwd, file), 'utf8'), source: file };
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}
