import type { z } from 'zod';
import { ProblemError, type FieldError } from './problem.js';

/** zod issues → api.md `errors[]` with dotted paths (`file_urls.3`). */
export function fieldErrors(error: z.ZodError, max = 50): FieldError[] {
  return error.issues.slice(0, max).map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
}

export function parseOr422<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    const first = errors[0];
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
    throw new ProblemError('validation-error', `${what} is invalid: ${first?.path} ${first?.message}${more}.`, errors);
  }
  return result.data;
}

/**
 * Query strings. A parameter sent empty (`?status=&limit=`, as form-built URLs do) counts as
 * not sent, rather than as an invalid value.
 */
export function parseOr400<S extends z.ZodType>(schema: S, query: Record<string, unknown>, what: string): z.infer<S> {
  const given = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
  const result = schema.safeParse(given);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    throw new ProblemError('malformed-request', `${what} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`, errors);
  }
  return result.data;
}
