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
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });
const REQUEST_ID_HEADER = headerRef('X-Request-Id');

/** Seconds until the caller may try again, on every 429 and 503. */
export const RETRY_AFTER_HEADER = headerRef('Retry-After');

/** Headers a problem response of a status always carries, besides X-Request-Id. */
const PROBLEM_HEADERS: Record<number, Record<string, object>> = {
  401: { 'WWW-Authenticate': headerRef('WWW-Authenticate') },
  429: { 'Retry-After': RETRY_AFTER_HEADER },
  503: { 'Retry-After': RETRY_AFTER_HEADER },
};

/** The IETF RateLimit headers the intake rate limit sends on every answer past authentication. */
const RATE_LIMIT_HEADERS = { RateLimit: headerRef('RateLimit'), 'RateLimit-Policy': headerRef('RateLimit-Policy') };

/** JSON Schema for "exactly one of these members". */
export function exactlyOneOf(a: string, b: string): { oneOf: Array<{ required: string[] }> } {
  return { oneOf: [{ required: [a] }, { required: [b] }] };
}

/** `language_hints` only with paraformer-v2 (the default model), as JSON Schema. */
export const HINTS_NEED_V2 = {
  if: { properties: { model: { const: 'paraformer-8k-v2' } }, required: ['model'] },
  then: { not: { properties: { language_hints: {} }, required: ['language_hints'] } },
};

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
      headers: { 'X-Request-Id': REQUEST_ID_HEADER, ...PROBLEM_HEADERS[status] },
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
 * answer, merged with the route's own. `rateLimited` operations count against the tenant's
 * intake rate limit, whose headers are on every answer but the 401 (auth comes first).
 */
export function registerV1Path(registry: OpenAPIRegistry, route: RouteConfig & { problems?: ProblemType[]; rateLimited?: boolean }): void {
  const { problems: own = [], rateLimited = false, ...rest } = route;
  const responses: RouteConfig['responses'] = { ...rest.responses, ...problems([...new Set([...own, ...V1_PROBLEMS])]) };
  if (rateLimited) {
    for (const [status, answer] of Object.entries(responses)) {
      if (status !== '401' && !('$ref' in answer)) responses[status] = { ...answer, headers: { ...answer.headers, ...RATE_LIMIT_HEADERS } };
    }
  }
  registry.registerPath({ ...rest, security: [{ [BEARER]: [] }], responses });
}

/** Registers an operation anyone may call (probes, metrics, this document). */
export function registerPublicPath(registry: OpenAPIRegistry, route: RouteConfig): void {
  registry.registerPath({ ...route, security: [] });
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
    required: true,
    schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
  });
  registry.registerComponent('headers', 'Retry-After', {
    description: 'Seconds to wait before sending the request again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  });
  registry.registerComponent('headers', 'WWW-Authenticate', {
    description: 'The scheme to authenticate with: `Bearer realm="batchscribe"`.',
    required: true,
    schema: { type: 'string', pattern: '^Bearer ' },
  });
  registry.registerComponent('headers', 'RateLimit', {
    description:
      'IETF RateLimit header (draft 8): the quota policy, requests left (`r`) and seconds until the window resets (`t`), e.g. `"120-in-1min"; r=119; t=60`.',
    schema: { type: 'string' },
  });
  registry.registerComponent('headers', 'RateLimit-Policy', {
    description: 'IETF RateLimit-Policy header (draft 8): the quota (`q`) and window in seconds (`w`), e.g. `"120-in-1min"; q=120; w=60`.',
    schema: { type: 'string' },
  });
}
