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

/** String.prototype.isWellFormed (Node 20 has it; the ES2023 lib does not declare it), else the pattern. */
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** True when `s` is well-formed Unicode: it holds no lone UTF-16 surrogate. */
export const isWellFormedString: (s: string) => boolean = nativeWellFormed
  ? (s) => nativeWellFormed.call(s)
  : (s) => !LONE_SURROGATE.test(s);

const joinPath = (parent: string, key: string | number) => (parent === '' ? String(key) : `${parent}.${key}`);

/** A container being walked: its children are visited in order, and their paths built only when needed. */
interface Frame {
  readonly value: unknown[] | Record<string, unknown>;
  /** An object's keys; null for an array. */
  readonly keys: string[] | null;
  readonly length: number;
  next: number;
  readonly path: string;
  readonly depth: number;
}

/** The problem of a scalar, if any (strings that are not well-formed, numbers JSON cannot hold). */
function scalarProblem(v: unknown): string | null {
  if (typeof v === 'string') return isWellFormedString(v) ? null : 'is not well-formed Unicode (it holds a lone UTF-16 surrogate)';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'is a number out of range';
  return null;
}

/**
 * Everything about a parsed body that is unsafe to store whatever the field: nesting deeper
 * than `maxDepth`, strings or keys that are not well-formed Unicode (a lone UTF-16 surrogate,
 * which JSON.stringify writes as `\ud800` and Redis's cjson cannot read back), numbers JSON
 * cannot hold (`1e999` parses to Infinity and would be stored as null), and `__proto__` keys
 * (which object copies silently drop). At most `max` problems are reported, in document order.
 *
 * It runs on every request body, a 100,000-URL list included, so the walk allocates nothing
 * per scalar: a path is built for a container entered or a problem found, never for a clean string.
 */
export function jsonInputProblems(value: unknown, opts: { maxDepth?: number; max?: number } = {}): JsonInputProblem[] {
  const maxDepth = opts.maxDepth ?? MAX_BODY_DEPTH;
  const max = opts.max ?? 50;
  const problems: JsonInputProblem[] = [];
  const frames: Frame[] = [];
  /** Looks at one value; a container is entered (a frame pushed) unless it nests too deep. */
  const visit = (v: unknown, path: () => string, depth: number): void => {
    if (typeof v !== 'object' || v === null) {
      const problem = scalarProblem(v);
      if (problem !== null) problems.push({ path: path() || '(body)', message: problem });
      return;
    }
    const at = path();
    if (depth >= maxDepth) {
      problems.push({ path: at || '(body)', message: `nests deeper than ${maxDepth} levels` });
      return;
    }
    const keys = Array.isArray(v) ? null : checkedKeys(Object.keys(v), at, problems);
    frames.push({ value: v as Frame['value'], keys, length: keys?.length ?? (v as unknown[]).length, next: 0, path: at, depth });
  };
  visit(value, () => '', 0);
  while (frames.length > 0 && problems.length < max) {
    const frame = frames[frames.length - 1]!;
    if (frame.next >= frame.length) {
      frames.pop();
      continue;
    }
    const i = frame.next++;
    if (frame.keys === null) {
      const item = (frame.value as unknown[])[i];
      // The common case, a long array of clean strings, costs one check each and no closure.
      if (typeof item === 'string' && isWellFormedString(item)) continue;
      visit(item, () => joinPath(frame.path, i), frame.depth + 1);
      continue;
    }
    const key = frame.keys[i]!;
    visit((frame.value as Record<string, unknown>)[key], () => joinPath(frame.path, key), frame.depth + 1);
  }
  return problems.slice(0, max);
}

/** An object's keys are checked as it is opened, before its values: the keys whose values are walked. */
function checkedKeys(keys: string[], path: string, problems: JsonInputProblem[]): string[] {
  const walked: string[] = [];
  for (const key of keys) {
    if (!isWellFormedString(key)) {
      problems.push({ path: joinPath(path, key.replace(/\p{Cs}/gu, '\uFFFD')), message: 'has a key that is not well-formed Unicode' });
    } else if (key === '__proto__') problems.push({ path: joinPath(path, key), message: 'is a reserved key name' });
    else walked.push(key);
  }
  return walked;
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
