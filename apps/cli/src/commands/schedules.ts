import type { Schedule } from '../api/schemas.js';
import { CliError } from '../errors.js';
import { EXIT, exitCodeForEndedJob, isTerminalStatus, type ExitCode } from '../exit-codes.js';
import { parseSubmitInput, urlProblem, type InputFormat } from '../input.js';
import { table } from '../job-format.js';
import { followToEnd, writeJson, type CommandContext } from './context.js';
import { readInput } from '../submit-inputs.js';

export async function schedulesListCommand(ctx: CommandContext, opts: { all?: boolean; json?: boolean }): Promise<ExitCode> {
  let cursor: string | undefined;
  const schedules: Schedule[] = [];
  do {
    const page = await ctx.client.listSchedules({ limit: 100, cursor });
    if (opts.json) for (const s of page.data) writeJson(ctx, s);
    else schedules.push(...page.data);
    cursor = opts.all ? (page.next_cursor ?? undefined) : undefined;
    if (!opts.all && page.next_cursor && !opts.json) ctx.io.stderr.write('more schedules: use --all\n');
  } while (cursor);
  if (opts.json) return EXIT.ok;
  if (schedules.length === 0) {
    ctx.io.stderr.write('no schedules\n');
    return EXIT.ok;
  }
  const rows = schedules.map((s) => [s.id, s.cron, s.timezone ?? 'UTC', s.next_run ?? '-', lastRunCell(s), s.name]);
  ctx.io.stdout.write(table([['ID', 'CRON', 'TIMEZONE', 'NEXT RUN', 'LAST RUN', 'NAME'], ...rows]));
  return EXIT.ok;
}

function lastRunCell(s: Schedule): string {
  if (!s.last_run) return '-';
  return `${s.last_run.at} ${s.last_run.job_id ?? `no job: ${s.last_run.error ?? 'unknown'}`}`;
}

export async function schedulesShowCommand(ctx: CommandContext, id: string, opts: { json?: boolean }): Promise<ExitCode> {
  const schedule = await ctx.client.getSchedule(id);
  if (opts.json) writeJson(ctx, schedule);
  else ctx.io.stdout.write(scheduleDetails(schedule));
  return EXIT.ok;
}

function scheduleDetails(s: Schedule): string {
  const files = s.manifest_url ?? (s.file_urls ? `${s.file_urls.length} listed URL${s.file_urls.length === 1 ? '' : 's'}` : null);
  const rows: Array<[string, string | null | undefined]> = [
    ['name', s.name],
    ['cron', `${s.cron} (${s.timezone ?? 'UTC'})`],
    ['files', files],
    ['next run', s.next_run],
    ['last run', s.last_run ? lastRunCell(s) : null],
    ['created', s.created_at],
  ];
  const lines = rows
    .filter((row): row is [string, string] => typeof row[1] === 'string' && row[1] !== '')
    .map(([k, v]) => `  ${`${k}:`.padEnd(10)} ${v}`);
  return `${s.id}\n${lines.join('\n')}\n`;
}

export interface ScheduleCreateOptions {
  name: string;
  cron: string;
  timezone?: string;
  manifestUrl?: string;
  file?: string;
  inputFormat?: InputFormat;
  model?: string;
  lang?: string[];
  jobName?: string;
  callback?: string;
  priority?: string;
  reuse?: boolean;
  json?: boolean;
}

/**
 * Creates a schedule from a manifest URL (fetched at every fire) or a fixed list of URLs read
 * from FILE (checked here line by line, like `submit`'s input).
 */
export async function schedulesCreateCommand(ctx: CommandContext, opts: ScheduleCreateOptions): Promise<ExitCode> {
  if ((opts.manifestUrl === undefined) === (opts.file === undefined)) {
    throw new CliError('give either --manifest-url URL (fetched at every run) or --file FILE (a fixed list of URLs)');
  }
  let files: Record<string, unknown>;
  if (opts.manifestUrl !== undefined) {
    const problem = urlProblem(opts.manifestUrl.trim());
    if (problem) throw new CliError(`--manifest-url: ${problem}`);
    files = { manifest_url: opts.manifestUrl.trim() };
  } else {
    const { text, source } = await readInput(ctx.io, opts.file ?? '-');
    const input = parseSubmitInput(text, source, opts.inputFormat);
    files = { file_urls: input.files.map((f) => f.url) };
  }
  const job = Object.fromEntries(
    Object.entries({
      model: opts.model,
      language_hints: opts.lang,
      name: opts.jobName,
      callback_url: opts.callback,
      priority: opts.priority,
      reuse: opts.reuse ? true : undefined,
    }).filter(([, v]) => v !== undefined),
  );
  const body = {
    name: opts.name,
    cron: opts.cron,
    ...(opts.timezone ? { timezone: opts.timezone } : {}),
    ...files,
    ...(Object.keys(job).length > 0 ? { job } : {}),
  };
  const schedule = await ctx.client.createSchedule(body);
  if (opts.json) writeJson(ctx, schedule);
  else ctx.io.stdout.write(`${schedule.id}\n`);
  ctx.io.stderr.write(`created schedule ${schedule.id} "${schedule.name}": next run ${schedule.next_run ?? 'never'}\n`);
  return EXIT.ok;
}

export async function schedulesDeleteCommand(ctx: CommandContext, id: string): Promise<ExitCode> {
  await ctx.client.deleteSchedule(id);
  ctx.io.stdout.write(`${id} deleted\n`);
  return EXIT.ok;
}

/** Fires the schedule now: stdout gets the id of the job it made; `--wait` follows that job like `submit --wait`. */
export async function schedulesRunCommand(
  ctx: CommandContext,
  id: string,
  opts: { wait?: boolean; progress: boolean; json?: boolean },
): Promise<ExitCode> {
  const job = await ctx.client.runSchedule(id);
  ctx.io.stderr.write(`schedule ${id} made ${job.id}: ${job.counts.total} file${job.counts.total === 1 ? '' : 's'}\n`);
  if (!opts.json) ctx.io.stdout.write(`${job.id}\n`);
  if (!opts.wait) {
    if (opts.json) writeJson(ctx, job);
    return EXIT.ok;
  }
  const final = isTerminalStatus(job.status) ? job : await followToEnd(ctx, job, { progress: opts.progress, endTo: 'stderr' });
  if (opts.json) writeJson(ctx, final);
  return exitCodeForEndedJob(final);
}
