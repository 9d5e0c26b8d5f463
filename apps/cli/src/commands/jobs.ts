import type { Job } from '../api/schemas.js';
import { EXIT, exitCodeForEndedJob, exitCodeForStatus, isTerminalStatus, type ExitCode } from '../exit-codes.js';
import { endLine, jobDetails, jobTable } from '../job-format.js';
import { followToEnd, writeJson, type CommandContext } from './context.js';

export async function statusCommand(ctx: CommandContext, id: string, opts: { json?: boolean }): Promise<ExitCode> {
  const job = await ctx.client.getJob(id);
  if (opts.json) writeJson(ctx, job);
  else ctx.io.stdout.write(jobDetails(job));
  return exitCodeForStatus(job);
}

export async function watchCommand(ctx: CommandContext, id: string, opts: { progress: boolean; json?: boolean }): Promise<ExitCode> {
  const job = await ctx.client.getJob(id);
  const final = isTerminalStatus(job.status)
    ? job
    : await followToEnd(ctx, job, { progress: opts.progress, endTo: opts.json ? 'stderr' : 'stdout' });
  if (opts.json) writeJson(ctx, final);
  else if (final === job) ctx.io.stdout.write(`${endLine(final)}\n`);
  return exitCodeForEndedJob(final);
}

export interface ListOptions {
  status?: string;
  limit?: number;
  all?: boolean;
  json?: boolean;
}

/** Newest first; `--all` follows `next_cursor` to the end, printing each page as it arrives. */
export async function listCommand(ctx: CommandContext, opts: ListOptions): Promise<ExitCode> {
  let cursor: string | undefined;
  let first = true;
  do {
    const page = await ctx.client.listJobs({ status: opts.status, limit: opts.limit, cursor });
    if (opts.json) for (const job of page.data) writeJson(ctx, job);
    else if (page.data.length > 0) ctx.io.stdout.write(jobTable(page.data, first));
    else if (first) ctx.io.stderr.write('no jobs\n');
    first = false;
    cursor = opts.all ? (page.next_cursor ?? undefined) : undefined;
    if (!opts.all && page.next_cursor && !opts.json) ctx.io.stderr.write('more jobs: use --all, or a larger --limit\n');
  } while (cursor);
  return EXIT.ok;
}

export interface ActionOptions {
  wait?: boolean;
  progress: boolean;
  json?: boolean;
}

export async function cancelCommand(ctx: CommandContext, id: string, opts: ActionOptions): Promise<ExitCode> {
  const job = await ctx.client.cancel(id);
  return afterAction(ctx, job, `cancel accepted (${job.status})`, opts);
}

export async function retryCommand(ctx: CommandContext, id: string, opts: ActionOptions): Promise<ExitCode> {
  const job = await ctx.client.retry(id);
  const again = job.counts.queued;
  return afterAction(ctx, job, `retry accepted: ${again} file${again === 1 ? '' : 's'} queued again (${job.status})`, opts);
}

/** Removes a finished job and its transcripts; the server refuses (409) while it runs. */
export async function deleteCommand(ctx: CommandContext, id: string): Promise<ExitCode> {
  await ctx.client.deleteJob(id);
  ctx.io.stdout.write(`${id} deleted\n`);
  return EXIT.ok;
}

async function afterAction(ctx: CommandContext, job: Job, what: string, opts: ActionOptions): Promise<ExitCode> {
  if (!opts.json) ctx.io.stdout.write(`${job.id} ${what}\n`);
  if (!opts.wait) {
    if (opts.json) writeJson(ctx, job);
    return EXIT.ok;
  }
  const final = isTerminalStatus(job.status)
    ? job
    : await followToEnd(ctx, job, { progress: opts.progress, endTo: opts.json ? 'stderr' : 'stdout' });
  if (opts.json) writeJson(ctx, final);
  return exitCodeForEndedJob(final);
}
