import { CliError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatHours, table } from '../job-format.js';
import { writeJson, type CommandContext } from './context.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` that is a real calendar day (checked here so a typo is not a server round trip). */
export function checkDay(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const day = value.trim();
  const parsed = new Date(`${day}T00:00:00Z`);
  if (!DAY.test(day) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day) {
    throw new CliError(`${flag} must be a day as YYYY-MM-DD: ${value}`);
  }
  return day;
}

/** Audio transcribed per day (UTC) for the caller's tenant, and the month's budget when it has one. */
export async function usageCommand(ctx: CommandContext, opts: { from?: string; to?: string; json?: boolean }): Promise<ExitCode> {
  const from = checkDay('--from', opts.from);
  const to = checkDay('--to', opts.to);
  if (from && to && from > to) throw new CliError(`--from ${from} is after --to ${to}`);
  const usage = await ctx.client.usage({ from, to });
  if (opts.json) {
    writeJson(ctx, usage);
    return EXIT.ok;
  }
  if (usage.data.length === 0) ctx.io.stderr.write('no transcribed files in that period\n');
  else {
    const sum = (pick: (row: (typeof usage.data)[number]) => number) => usage.data.reduce((n, row) => n + pick(row), 0);
    const billed = (s: number | null) => (s === null ? '-' : formatHours(s));
    const anyBilled = usage.data.some((row) => row.billed_seconds !== null);
    const rows = usage.data.map((row) => [
      row.date,
      String(row.jobs),
      String(row.files),
      formatHours(row.audio_seconds),
      billed(row.billed_seconds),
      String(row.reused_files),
    ]);
    const total = [
      'total',
      String(sum((r) => r.jobs)),
      String(sum((r) => r.files)),
      formatHours(sum((r) => r.audio_seconds)),
      anyBilled ? formatHours(sum((r) => r.billed_seconds ?? 0)) : '-',
      String(sum((r) => r.reused_files)),
    ];
    ctx.io.stdout.write(table([['DATE', 'JOBS', 'FILES', 'AUDIO', 'BILLED', 'REUSED'], ...rows, total]));
  }
  const b = usage.budget;
  if (b) {
    ctx.io.stdout.write(`budget ${b.month}: ${round(b.used_hours)} of ${round(b.hours)} hours used, ${round(b.remaining_hours)} left\n`);
  }
  return EXIT.ok;
}

function round(hours: number): string {
  return (Math.round(hours * 100) / 100).toString();
}
