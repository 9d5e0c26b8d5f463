import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { jsonContent, problemSchemaFor, PROBLEM_CONTENT_TYPE, registerPublicPath, response, RETRY_AFTER_HEADER } from './common.js';

/** The unauthenticated operations routes: probes, metrics and this document itself. */

const TAG = 'Operations';
const checksSchema = z.strictObject({
  redis: z.string(),
  maxmemory_policy: z.string(),
  workers: z.string(),
  upstream: z
    .string()
    .meta({ description: '`ok`, or `degraded: <code>: <message>` as the workers report foxapi (unreachable, key refused).' }),
});

export function registerOperationPaths(registry: OpenAPIRegistry): void {
  registerPublicPath(registry, {
    method: 'get',
    path: '/healthz',
    tags: [TAG],
    operationId: 'healthz',
    summary: 'Liveness: the process answers',
    responses: { 200: response('Alive.', jsonContent(z.strictObject({ status: z.literal('ok') }))) },
  });

  registerPublicPath(registry, {
    method: 'get',
    path: '/readyz',
    tags: [TAG],
    operationId: 'readyz',
    summary: 'Readiness: Redis answers, never evicts, and a worker sent a heartbeat recently',
    description:
      'With foxapi unreachable from the workers or refusing their key, the answer is still 200 with `status: degraded` (jobs wait, nothing is lost); with `?strict` it is 503.',
    request: {
      query: z.object({ strict: z.string().optional().meta({ description: 'Any value but `false`: a degraded upstream answers 503.' }) }),
    },
    responses: {
      200: response(
        'Ready (`degraded`: ready, but foxapi is unreachable or refuses the key; `checks.upstream` says which).',
        jsonContent(z.strictObject({ status: z.enum(['ready', 'degraded']), checks: checksSchema })),
      ),
      503: response(
        '`unavailable`: not ready; `detail` and `checks` say why.',
        { [PROBLEM_CONTENT_TYPE]: { schema: problemSchemaFor(['unavailable'], { checks: checksSchema }) } },
        { 'Retry-After': RETRY_AFTER_HEADER },
      ),
    },
  });

  registerPublicPath(registry, {
    method: 'get',
    path: '/metrics',
    tags: [TAG],
    operationId: 'metrics',
    summary: 'Prometheus metrics of this API process and of the queues',
    responses: { 200: response('Prometheus text exposition format 0.0.4.', { 'text/plain': { schema: z.string() } }) },
  });

  registerPublicPath(registry, {
    method: 'get',
    path: '/openapi.json',
    tags: [TAG],
    operationId: 'openapi',
    summary: 'This document (OpenAPI 3.1); rendered at /docs',
    responses: { 200: response('The OpenAPI document.', jsonContent(z.record(z.string(), z.unknown()))) },
  });
}
