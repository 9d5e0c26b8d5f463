import type { OpenAPIRegistry, ResponseConfig, RouteConfig, ZodContentObject } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PROBLEM_BASE, PROBLEM_CATALOG, type ProblemType } from '../http/problem.js';

/**
 * Building blocks every route module uses to describe its paths, so that problem responses,
 * auth and the request-id header read the same on every operation of the document.
 */

export const PROBLEM_TYPES = Object.keys(PROBLEM_CATALOG) as ProblemType[];
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const BEARER = 'bearerAuth';
const REQUEST_ID_HEADER = { $ref: '#/components/headers/X-Request-Id' };

const fieldErrorSchema = z.strictObject({
  path: z.string().meta({ description: 'Dotted path of the offending field, e.g. `file_urls.3`; `(body)` for the whole body.' }),
  message: z.string(),
});

const problemShape = {
  type: z
    .enum(PROBLEM_TYPES.map((t) => PROBLEM_BASE + t))
    .meta({ description: 'Stable machine-readable URI; its last path segment is the code.' }),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().meta({ description: 'What went wrong with this request, for a human.' }),
  errors: z.array(fieldErrorSchema).optional().meta({ description: 'Per-field problems (validation-error, malformed-request).' }),
};

/** RFC 9457 problem details, the body of every error response. */
export const problemSchema = z.strictObject(problemShape).meta({
  id: 'Problem',
  description: `RFC 9457 problem details. Types: ${PROBLEM_TYPES.map((t) => `\`${t}\` (${PROBLEM_CATALOG[t][0]})`).join(', ')}.`,
});

/**
 * The problem schema narrowed to the types one status can carry, so a 404 must say not-found.
 * With `extra` members (RFC 9457 extensions) it is a schema of its own instead of a narrowing.
 */
export function problemSchemaFor(types: readonly ProblemType[], extra?: Record<string, z.ZodType>): z.ZodType {
  const type = z.enum(types.map((t) => PROBLEM_BASE + t));
  if (extra) return z.strictObject({ ...problemShape, type, ...extra });
  return z.intersection(problemSchema, z.object({ type }));
}

/** Problem responses keyed by status; types sharing a status (422) share one response. */
export function problems(
  types: readonly ProblemType[],
  describe: Partial<Record<ProblemType, string>> = {},
): Record<string, ResponseConfig> {
  const byStatus = new Map<number, ProblemType[]>();
  for (const type of types) {
    const status = PROBLEM_CATALOG[type][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, group] of byStatus) {
    responses[String(status)] = {
      description: group.map((t) => `\`${t}\`: ${describe[t] ?? PROBLEM_CATALOG[t][1]}`).join('; '),
      headers: { 'X-Request-Id': REQUEST_ID_HEADER },
      content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchemaFor(group) } },
    };
  }
  return responses;
}

export function jsonContent(schema: z.ZodType): ZodContentObject {
  return { 'application/json': { schema } };
}

/** A success response; every response carries X-Request-Id. */
export function response(description: string, content?: ZodContentObject, headers: Record<string, object> = {}): ResponseConfig {
  return { description, headers: { 'X-Request-Id': REQUEST_ID_HEADER, ...headers }, ...(content ? { content } : {}) };
}

/** Problems any authenticated `/v1` route can answer with, whatever it does. */
const V1_PROBLEMS: ProblemType[] = ['unauthorized', 'rate-limited', 'internal', 'unavailable'];

/**
 * Registers a `/v1` operation: bearer auth, the tag, and the problems every `/v1` route can
 * answer, merged with the route's own.
 */
export function registerV1Path(registry: OpenAPIRegistry, route: RouteConfig & { problems?: ProblemType[] }): void {
  const { problems: own = [], ...rest } = route;
  registry.registerPath({
    ...rest,
    security: [{ [BEARER]: [] }],
    responses: { ...rest.responses, ...problems([...new Set([...own, ...V1_PROBLEMS])]) },
  });
}

/** Components the helpers above refer to; registered once per document. */
export function registerCommonComponents(registry: OpenAPIRegistry): void {
  registry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from API_KEYS; it names the tenant the request acts for.',
  });
  registry.registerComponent('headers', 'X-Request-Id', {
    description: "The request's id (the caller's X-Request-Id when it sent a valid one); it is on every log line about the request.",
    schema: { type: 'string' },
  });
}
