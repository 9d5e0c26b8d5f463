import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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
  inputFormat?: InputFormat;
  wait?: boolean;
  progress: boolean;
  json?: boolean;
}

export async function submitCommand(ctx: CommandContext, file: string, opts: SubmitOptions): Promise<ExitCode> {
  const { text, source } = await readInput(ctx.io, file);
  const input = parseSubmitInput(text, source, opts.inputFormat);
  const { job, replayed } = await ctx.client.submit(jobBody(input, opts), opts.idempotencyKey);
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
  };
  return {
    ...input.fields,
    ...(withRefs ? { files: input.files } : { file_urls: input.files.map((f) => f.url) }),
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  };
}

async function readInput(io: CliIo, file: string): Promise<{ text: string; source: string }> {
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
