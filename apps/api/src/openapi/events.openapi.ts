import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { JOB_ID_PATTERN, jobSchema } from '@batchscribe/shared';
import { webhookEventSchema } from './schemas.js';
import { jsonContent, registerV1Path, response } from './common.js';

/** How a job tells its caller it changed: the SSE stream, and the webhook with its redelivery. */

const TAG = 'Jobs';
const jobParams = z.object({ id: z.string().regex(JOB_ID_PATTERN).meta({ description: 'The job id.' }) });

export function registerEventPaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'get',
    path: '/v1/jobs/{id}/events',
    tags: [TAG],
    operationId: 'streamJobEvents',
    summary: "Server-Sent Events of a job's changes",
    description:
      '`event: job` with the Job as `data` whenever it changes (at most ~2/s; the current state first), comment heartbeats every 15 s; once terminal `event: job` with the final Job, then `event: end` with it again, and the server closes the stream. A reader that falls behind gets the latest Job once it catches up (intermediate states are skipped). One api process serves at most SSE_MAX_STREAMS_PER_TENANT streams per tenant (429 beyond) and SSE_MAX_STREAMS in all (503 beyond), both with Retry-After.',
    request: { params: jobParams },
    responses: {
      200: response('The event stream.', {
        'text/event-stream': { schema: z.string().meta({ description: "Each event's `data` is a Job (see the Job schema)." }) },
      }),
    },
    problems: ['not-found'],
  });

  registerV1Path(registry, {
    method: 'post',
    path: '/v1/jobs/{id}/webhook/redeliver',
    tags: [TAG],
    operationId: 'redeliverWebhook',
    summary: "Send a finished job's webhook again",
    request: { params: jobParams },
    responses: { 202: response('The webhook is queued again; the Job shows it pending.', jsonContent(jobSchema)) },
    problems: ['not-found', 'conflict'],
  });

  registry.registerWebhook({
    method: 'post',
    path: 'job.finished',
    tags: [TAG],
    operationId: 'jobFinished',
    // Authenticated by its signature (the webhook-* headers), not by a scheme of this API.
    security: [],
    summary: 'Sent to callback_url when a job reaches a terminal state',
    description:
      "Signed per the Standard Webhooks spec with WEBHOOK_SECRET; retried with exponential back-off on any non-2xx answer or timeout. The outcome is recorded in the Job's `webhook`.",
    request: {
      headers: z.object({
        'webhook-id': z.string().meta({ description: 'Stable across retries of one event: deduplicate on it.' }),
        'webhook-timestamp': z.string().meta({ description: 'Unix seconds of this attempt.' }),
        'webhook-signature': z.string().meta({ description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`' }),
      }),
      body: { required: true, content: jsonContent(webhookEventSchema) },
    },
    responses: { 200: { description: 'Any 2xx answer counts as delivered.' } },
  });
}
