import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { jobSchema, scheduleSchema } from '@batchscribe/shared';
import { schedulePageSchema } from './schemas.js';
import { createScheduleBody } from '../schedules/schedule-intake.js';
import { listQuery } from '../schedules/schedules.routes.js';
import { HINTS_NEED_V2, exactlyOneOf, jsonContent, registerV1Path, response } from './common.js';

/** The schedules routes (README, "Nightly jobs: schedules"), from the schemas the routes validate with. */

const TAG = 'Schedules';
const params = z.object({
  id: z
    .string()
    .regex(/^sch_[0-9a-z]{26}$/)
    .meta({ description: 'The schedule id.' }),
});
const LOCATION = { description: 'The created resource.', schema: { type: 'string' } };

export function registerSchedulePaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'post',
    path: '/v1/schedules',
    rateLimited: true,
    tags: [TAG],
    operationId: 'createSchedule',
    summary: 'Create a schedule',
    description:
      'At each fire the manifest (text, one URL a line, or a JSON array) is fetched and becomes a job named after the schedule (or `job.name`) with its `schedule_id`. A fire that happens twice makes one job. Exactly one of `manifest_url` or `file_urls`. `manifest_url` and `job.callback_url` must point to public addresses (or to `OUTBOUND_ALLOWED_NETS`). The cron may fire at most once a minute (`SCHEDULE_MIN_INTERVAL_S`). Creating counts against the intake rate limit (429); a tenant beyond `MAX_SCHEDULES_PER_TENANT` schedules gets 409. Each fire counts against the intake rate limit too; one over it makes no job and says so in `last_run.error`. Query parameters are refused (422).',
    request: {
      body: {
        required: true,
        content: jsonContent(
          createScheduleBody.meta({
            id: 'CreateScheduleRequest',
            ...exactlyOneOf('manifest_url', 'file_urls'),
            allOf: [{ properties: { job: HINTS_NEED_V2 } }],
          }),
        ),
      },
    },
    responses: { 201: response('Created.', jsonContent(scheduleSchema), { Location: LOCATION }) },
    problems: ['malformed-request', 'unsupported-media-type', 'validation-error', 'payload-too-large', 'conflict'],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/schedules',
    tags: [TAG],
    operationId: 'listSchedules',
    summary: "List the caller's schedules",
    request: { query: listQuery },
    responses: { 200: response('A page of schedules.', jsonContent(schedulePageSchema)) },
    problems: ['malformed-request'],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/schedules/{id}',
    tags: [TAG],
    operationId: 'getSchedule',
    summary: 'Read a schedule',
    request: { params },
    responses: { 200: response('The schedule.', jsonContent(scheduleSchema)) },
    problems: ['not-found'],
  });

  registerV1Path(registry, {
    method: 'delete',
    path: '/v1/schedules/{id}',
    tags: [TAG],
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule (jobs it made are kept)',
    request: { params },
    responses: { 204: response('Deleted.') },
    problems: ['not-found'],
  });

  registerV1Path(registry, {
    method: 'post',
    path: '/v1/schedules/{id}/run',
    rateLimited: true,
    tags: [TAG],
    operationId: 'runSchedule',
    summary: 'Fire a schedule now',
    description:
      "Counts against the intake rate limit (429). A manifest download reserves `MANIFEST_MAX_BYTES` of the api's intake byte budget (`INTAKE_MAX_INFLIGHT_BYTES`) while it runs: 503 with `Retry-After` when it is taken.",
    request: { params },
    responses: {
      202: response('The job the fire made.', jsonContent(jobSchema), {
        Location: { description: 'The job.', schema: { type: 'string' } },
      }),
    },
    problems: ['not-found', 'validation-error', 'payload-too-large'],
  });
}
