import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { USAGE_MAX_DAYS } from '@batchscribe/shared';
import { jsonContent, registerV1Path, response } from '../openapi/common.js';
import { usageQuery } from './usage.routes.js';

/** `GET /v1/usage` in the OpenAPI document; the query schema is the one the route validates with. */

const usageDaySchema = z
  .strictObject({
    date: z.string().meta({ description: 'The UTC day, `YYYY-MM-DD`.', example: '2026-11-02' }),
    jobs: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Jobs that had a batch end with usage that day (a job running past midnight counts on both days).' }),
    files: z.number().int().min(0).meta({ description: 'Files transcribed (or reused) that day.' }),
    audio_seconds: z.number().min(0).meta({ description: 'Sum of their durations (upstream `original_duration_in_milliseconds`).' }),
    billed_seconds: z.number().min(0).nullable().meta({
      description: 'What foxapi reported as billed for the tasks that ended that day (`usage.duration`); null if it reported nothing.',
    }),
    reused_files: z.number().int().min(0).meta({ description: 'Files completed from an earlier transcript, with no foxapi call.' }),
  })
  .meta({ id: 'UsageDay' });

const budgetSchema = z
  .strictObject({
    month: z.string().meta({ description: 'The current calendar month (UTC), `YYYY-MM`.', example: '2026-11' }),
    hours: z.number().min(0).meta({ description: "The tenant's TENANT_BUDGETS hours." }),
    used_hours: z.number().min(0).meta({ description: 'Audio hours transcribed this month.' }),
    remaining_hours: z
      .number()
      .min(0)
      .meta({ description: '`hours - used_hours`, at least 0. At 0 queued batches wait (`budget_exhausted`).' }),
  })
  .meta({ id: 'UsageBudget' });

export const usageReportSchema = z
  .strictObject({
    data: z.array(usageDaySchema).meta({ description: 'One row per day in the range that had usage, oldest first.' }),
    budget: budgetSchema.nullable().meta({ description: "The tenant's monthly budget; null when TENANT_BUDGETS gives it none." }),
  })
  .meta({ id: 'UsageReport' });

export function registerUsagePaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'get',
    path: '/v1/usage',
    tags: ['Usage'],
    operationId: 'getUsage',
    summary: "The caller's usage per UTC day, and this month's budget",
    description: `Counters are kept ${USAGE_MAX_DAYS} days, past job retention. Default range: the current month up to today. A day that is not \`YYYY-MM-DD\` or not on the calendar is a 400; \`from\` after \`to\`, or a range longer than ${USAGE_MAX_DAYS} days, is a 422.`,
    request: { query: usageQuery },
    responses: { 200: response('Usage per day and the budget.', jsonContent(usageReportSchema)) },
    problems: ['malformed-request', 'validation-error'],
  });
}
