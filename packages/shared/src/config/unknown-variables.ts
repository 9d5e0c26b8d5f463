import { closest, distance } from 'fastest-levenshtein';
import type { Logger } from 'pino';

/**
 * Prefixes of batchscribe's own variables. A variable with one of them that no app knows is
 * almost surely a typo: without this check `FOXAPI_MAX_RSP=5` starts a worker on the default.
 * `SIM_` is the simulator's, which checks it itself.
 */
export const SERVICE_PREFIXES: readonly string[] = [
  'FOXAPI_',
  'WORKER_',
  'INTAKE_',
  'WEBHOOK_',
  'SUBMIT_',
  'POLL_',
  'TASK_',
  'BATCH_',
  'MAX_',
  'MANIFEST_',
  'JOB_',
  'QUEUE_',
  'REDIS_',
  'S3_',
  'BLOB_',
  'UPLOAD_',
  'ADMIN_',
  'CALLBACK_',
  'SSE_',
];

export interface UnknownVariable {
  name: string;
  /** The nearest known name, when it is near enough to be what was meant. */
  suggestion: string | null;
}

/**
 * Variables Kubernetes (and Docker's legacy links) set for every service in the namespace, e.g.
 * `REDIS_PORT=tcp://10.0.0.7:6379` for a service named redis: not ours, never a typo.
 */
const SERVICE_LINK = /_(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_ADDR|_PORT|_PROTO)?)?)$/;

/** Variables with one of `prefixes` that are not in `known`, each with the nearest known name. */
export function findUnknownVariables(
  env: Record<string, string | undefined>,
  known: Iterable<string>,
  prefixes: readonly string[] = SERVICE_PREFIXES,
): UnknownVariable[] {
  const names = [...new Set(known)];
  const knownSet = new Set(names);
  return Object.keys(env)
    .filter((name) => !knownSet.has(name) && !SERVICE_LINK.test(name) && prefixes.some((p) => name.toUpperCase().startsWith(p)))
    .sort()
    .map((name) => ({ name, suggestion: nearest(name.toUpperCase(), names) }));
}

/** Within a third of the name's length (at least 2 edits): a typo, not a different word. */
function nearest(name: string, names: string[]): string | null {
  if (names.length === 0) return null;
  const candidate = closest(name, names);
  return distance(name, candidate) <= Math.max(2, Math.floor(name.length / 3)) ? candidate : null;
}

/** One warning per unknown variable, naming the variable and, when there is one, the likely intended name. */
export function warnUnknownVariables(logger: Logger, unknown: UnknownVariable[]): void {
  for (const { name, suggestion } of unknown) {
    const hint = suggestion === null ? 'no batchscribe app reads it' : `did you mean ${suggestion}?`;
    logger.warn({ variable: name, suggestion }, `unknown variable ${name} is ignored: ${hint}`);
  }
}

/**
 * The variable names of the app beside this one (`api` ↔ `worker`). Both read one `.env` (the
 * repo's scripts, compose), so a name the other app knows is no typo. They ship side by side —
 * `apps/<app>/{src,dist}` in the repository, `/app/<app>/dist` in the image — so its env module
 * is found relative to this app's own (`fromModuleUrl`, a module of the app's src or dist
 * root). Without it (a partial install) only this app's names count.
 */
export async function siblingEnvVariables(fromModuleUrl: string, sibling: 'api' | 'worker'): Promise<string[]> {
  const dir = new URL('.', fromModuleUrl);
  const layout = dir.pathname.split('/').filter(Boolean).at(-1) ?? 'dist';
  const url = new URL(`../../${sibling}/${layout}/env.js`, dir);
  try {
    const mod = (await import(url.href)) as { ENV_VARIABLES?: unknown };
    return Array.isArray(mod.ENV_VARIABLES) ? mod.ENV_VARIABLES.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
