import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { fileUrl, scheduleJobOptions, wellFormedString, type ScheduleRecord } from '@batchscribe/shared';
import { checkCallback, checkJsonInput, refuseQuery, type IntakeLimits } from '../jobs/intake.js';
import { ProblemError } from '../http/problem.js';
import { parseOr422 } from '../http/validation.js';

/** A validated `POST /v1/schedules` body. */
export type ScheduleRequest = Omit<ScheduleRecord, 'id' | 'tenant' | 'createdAt' | 'lastRun'>;

/** 5 fields, or 6 with seconds first (README, "Nightly jobs: schedules"). cron-parser alone also takes 4 fields and `@daily`. */
function cronProblem(cron: string): string | null {
  const count = cron.trim().split(/\s+/).length;
  if (count !== 5 && count !== 6) return `must have 5 fields (minute hour day month weekday), or 6 with seconds first; it has ${count}`;
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' }).next();
    return null;
  } catch (err) {
    return `is not a valid cron expression: ${(err as Error).message}`;
  }
}

/**
 * The shortest gap between two fires the cron's seconds field allows, assuming its minutes
 * follow one another (so never more than the truth). A 5-field cron fires at second 0: 60 s.
 */
export function shortestFireGapS(cron: string): number {
  const seconds = [...CronExpressionParser.parse(cron, { tz: 'UTC' }).fields.second.values].map(Number).sort((a, b) => a - b);
  let gap = 60 - (seconds[seconds.length - 1] ?? 0) + (seconds[0] ?? 0);
  for (let i = 1; i < seconds.length; i++) gap = Math.min(gap, seconds[i]! - seconds[i - 1]!);
  return gap;
}

/** IANA names only (Europe/Berlin, UTC): what Intl accepts is what the scheduler can use. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** `POST /v1/schedules` body (exported for the OpenAPI registry). */
export const createScheduleBody = z
  .strictObject({
    name: wellFormedString('is required').min(1).max(256),
    cron: z
      .string({ message: 'is required' })
      .max(256)
      .superRefine((cron, ctx) => {
        const problem = cronProblem(cron);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    timezone: z.string().max(64).refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin or UTC' }).default('UTC'),
    manifest_url: fileUrl.optional(),
    file_urls: z.array(fileUrl).min(1, { message: 'must hold at least one URL' }).optional(),
    job: scheduleJobOptions.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.manifest_url === undefined && body.file_urls === undefined) {
      ctx.addIssue({ code: 'custom', path: ['manifest_url'], message: 'is required (or give file_urls)' });
    }
    if (body.manifest_url !== undefined && body.file_urls !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['file_urls'], message: 'cannot be given together with manifest_url' });
    }
    // Intl and the scheduler's date library may disagree on an exotic zone name: ask the one that fires.
    if (cronProblem(body.cron) === null && isTimeZone(body.timezone)) {
      try {
        CronExpressionParser.parse(body.cron, { tz: body.timezone }).next();
      } catch {
        ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'is not a time zone the scheduler can use' });
      }
    }
  });

export interface ScheduleLimits extends IntakeLimits {
  /** A cron may not fire more often than once in this many seconds (SCHEDULE_MIN_INTERVAL_S). */
  minIntervalS: number;
}

export function parseScheduleRequest(body: unknown, limits: ScheduleLimits, query: Record<string, unknown> = {}): ScheduleRequest {
  refuseQuery(query, 'The request');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProblemError('validation-error', 'The body must be a JSON object.', [{ path: '(body)', message: 'must be an object' }]);
  }
  const list = (body as { file_urls?: unknown }).file_urls;
  if (Array.isArray(list) && list.length > limits.maxFiles) {
    throw new ProblemError(
      'payload-too-large',
      `The schedule lists ${list.length} files; at most ${limits.maxFiles} are accepted per job.`,
    );
  }
  checkJsonInput(body, 'The schedule');
  const parsed = parseOr422(createScheduleBody, body, 'The schedule');
  const gap = shortestFireGapS(parsed.cron);
  if (gap < limits.minIntervalS) {
    const message = `fires every ${gap} s; schedules may fire at most once every ${limits.minIntervalS} s (give the seconds field one value, e.g. "0 */5 * * * *")`;
    throw new ProblemError('validation-error', `The schedule is invalid: cron ${message}.`, [{ path: 'cron', message }]);
  }
  const job = parsed.job ?? scheduleJobOptions.parse({});
  checkCallback(job.callback_url, limits, 'job.callback_url');
  return {
    name: parsed.name,
    cron: parsed.cron.trim().replace(/\s+/g, ' '),
    timezone: parsed.timezone,
    manifestUrl: parsed.manifest_url ?? null,
    fileUrls: parsed.file_urls ?? null,
    job,
  };
}
