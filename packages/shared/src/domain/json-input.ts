/**
 * Checks on parsed JSON that zod schemas cannot make safely: they walk the value with an
 * explicit stack, so a body nested 10,000 levels deep costs a loop, not the call stack.
 */

/** Deepest nesting accepted in a free-form object (`metadata`, `recognition`, `diarization`). */
export const MAX_JSON_DEPTH = 32;

/** How deep a request body may nest at all: the free-form objects sit one level below the top. */
export const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 2;

export interface JsonInputProblem {
  path: string;
  message: string;
}

/** Matches a lone surrogate only: with the `u` flag a well-formed pair reads as one code point outside Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** True when `s` is well-formed Unicode (String.prototype.isWellFormed, which the ES2023 lib does not declare). */
export function isWellFormedString(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

const joinPath = (parent: string, key: string | number) => (parent === '' ? String(key) : `${parent}.${key}`);

/**
 * Everything about a parsed body that is unsafe to store whatever the field: nesting deeper
 * than `maxDepth`, strings or keys that are not well-formed Unicode (a lone UTF-16 surrogate,
 * which JSON.stringify writes as `\ud800` and Redis's cjson cannot read back), numbers JSON
 * cannot hold (`1e999` parses to Infinity and would be stored as null), and `__proto__` keys
 * (which object copies silently drop). At most `max` problems are reported.
 */
export function jsonInputProblems(value: unknown, opts: { maxDepth?: number; max?: number } = {}): JsonInputProblem[] {
  const maxDepth = opts.maxDepth ?? MAX_BODY_DEPTH;
  const max = opts.max ?? 50;
  const problems: JsonInputProblem[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length < max) {
    const item = stack.pop()!;
    const at = item.path === '' ? '(body)' : item.path;
    const v = item.value;
    if (typeof v === 'string') {
      if (!isWellFormedString(v)) problems.push({ path: at, message: 'is not well-formed Unicode (it holds a lone UTF-16 surrogate)' });
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) problems.push({ path: at, message: 'is a number out of range' });
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (item.depth >= maxDepth) {
      problems.push({ path: at, message: `nests deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: joinPath(item.path, i), depth: item.depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const wellFormed = isWellFormedString(key);
      const path = joinPath(item.path, wellFormed ? key : key.replace(/\p{Cs}/gu, '\uFFFD'));
      if (!wellFormed) problems.push({ path, message: 'has a key that is not well-formed Unicode' });
      else if (key === '__proto__') problems.push({ path, message: 'is a reserved key name' });
      else stack.push({ value: (v as Record<string, unknown>)[key], path, depth: item.depth + 1 });
    }
  }
  return problems;
}

/**
 * Bytes of `JSON.stringify(value)` as UTF-8, counted without recursion. Values JSON.stringify
 * leaves out of objects (undefined, functions) count as it does; a parsed body has none.
 */
export function jsonByteLength(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += Buffer.byteLength(JSON.stringify(v));
    else if (typeof v === 'number') bytes += Number.isFinite(v) ? String(v).length : 4;
    else if (typeof v === 'boolean') bytes += v ? 4 : 5;
    else if (v === null || typeof v !== 'object') bytes += 4;
    else if (Array.isArray(v)) {
      bytes += 2 + Math.max(0, v.length - 1);
      for (const item of v) stack.push(item === undefined ? null : item);
    } else {
      const entries = Object.entries(v).filter(([, item]) => item !== undefined && typeof item !== 'function');
      bytes += 2 + Math.max(0, entries.length - 1);
      for (const [key, item] of entries) {
        bytes += Buffer.byteLength(JSON.stringify(key)) + 1;
        stack.push(item);
      }
    }
  }
  return bytes;
}

/** Nesting depth of a JSON value (a scalar is 0, `{}` is 1), counted without recursion, stopping past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: item, depth: here });
  }
  return deepest;
}

/**
 * JSON.stringify for records made from data we do not control (upstream error messages): a
 * lone surrogate becomes U+FFFD, so what is stored can always be read back by Redis's cjson.
 */
export function wellFormedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' && !isWellFormedString(v) ? v.replace(/\p{Cs}/gu, '\uFFFD') : v,
  );
}
