import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { ProblemError, type FieldError } from './problem.js';

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  in?: { _zod: { def: SchemaDef } };
  options?: Array<{ _zod: { def: SchemaDef } }>;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function unwrap(def: SchemaDef | undefined): SchemaDef | undefined {
  let d = def;
  for (let i = 0; d && i < 16; i++) {
    if (WRAPPERS.has(d.type)) d = d.innerType?._zod.def;
    else if (d.type === 'pipe') d = d.in?._zod.def;
    else return d;
  }
  return d;
}

/** The field names the object schema at `path` knows, for suggesting one in place of a typo. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let def = unwrap((schema as unknown as { _zod: { def: SchemaDef } })._zod.def);
  for (const segment of path) {
    if (!def) return [];
    if (typeof segment === 'number') def = unwrap(def.type === 'array' ? def.element?._zod.def : undefined);
    else def = unwrap(def.type === 'object' ? def.shape?.[String(segment)]?._zod.def : undefined);
  }
  if (def?.type === 'union') return [...new Set((def.options ?? []).flatMap((o) => knownKeysAt(o as unknown as z.ZodType, [])))];
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/**
 * A value that fits none of a union's forms (a `files` entry that is neither `{url}` nor
 * `{upload_id}`). When every form only misses its own key or refuses another's, the value gave
 * none or several of them: say which to give. Otherwise the form it is nearest to (fewest
 * issues) tells what is wrong, in its own terms.
 */
function unionErrors(issue: z.core.$ZodIssueInvalidUnion): Array<{ path: PropertyKey[]; message: string }> {
  const branches = issue.errors;
  const keyIssue = (i: z.core.$ZodIssue) =>
    i.code === 'unrecognized_keys' || (i.code === 'invalid_type' && i.path.length === 1 && /received undefined/.test(i.message));
  if (branches.length > 0 && branches.every((b) => b.length > 0 && b.every(keyIssue))) {
    const names = branches.map((b) => b.find((i) => i.code === 'invalid_type')?.path[0]).filter((n) => n !== undefined);
    const own = branches.flatMap((b) => b.filter((i) => i.code === 'unrecognized_keys').flatMap((i) => i.keys));
    const keys = [...new Set([...names.map(String), ...own])];
    return [{ path: issue.path, message: `must hold exactly one of ${keys.join(', ')}` }];
  }
  const nearest = branches.reduce((best, b) => (b.length < best.length ? b : best), branches[0] ?? []);
  return nearest.map((i) => ({ path: [...issue.path, ...i.path], message: i.message }));
}

/** The nearest known name when it is a plausible typo (a third of the name, at least 2 edits). */
export function suggestField(unknown: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  const best = closest(unknown, [...known]);
  return distance(unknown, best) <= Math.max(2, Math.floor(unknown.length / 3)) ? best : null;
}

const joinPath = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * zod issues → `errors[]` with dotted paths (`file_urls.3`). An unknown field gets its own
 * entry naming it, with the nearest known name when it looks like a typo.
 */
export function fieldErrors(error: z.ZodError, max = 50, schema?: z.ZodType): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    if (errors.length >= max) break;
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      for (const key of issue.keys) {
        const near = suggestField(key, known);
        errors.push({
          path: joinPath([...issue.path, key]),
          message: near ? `is not a known field; did you mean ${near}?` : 'is not a known field',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union') {
      for (const e of unionErrors(issue)) errors.push({ path: joinPath(e.path) || '(body)', message: e.message });
      continue;
    }
    errors.push({ path: joinPath(issue.path) || '(body)', message: issue.message });
  }
  return errors.slice(0, max);
}

export function parseOr422<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(what, fieldErrors(result.error, 50, schema));
  return result.data;
}

/** One 422 for a list of field errors: the detail names the first and counts the rest. */
export function validationProblem(what: string, errors: FieldError[]): ProblemError {
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ProblemError('validation-error', `${what} is invalid: ${first?.path} ${first?.message}${more}.`, errors);
}

/**
 * Query strings. A parameter sent empty (`?status=&limit=`, as form-built URLs do) counts as
 * not sent, rather than as an invalid value.
 */
export function parseOr400<S extends z.ZodType>(schema: S, query: Record<string, unknown>, what: string): z.infer<S> {
  const given = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
  const result = schema.safeParse(given);
  if (!result.success) {
    const errors = fieldErrors(result.error, 50, schema);
    throw new ProblemError('malformed-request', `${what} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`, errors);
  }
  return result.data;
}
