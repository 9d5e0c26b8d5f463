import { type z } from 'zod';

/** Thrown when the environment does not parse; each problem names its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses the environment once, at startup. Empty strings count as unset, so `FOO=` in a
 * compose file falls back to the default instead of failing a number parse.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.length > 0 ? issue.path.join('.') : 'environment';
        return `${variable}: ${issue.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** Prints a ConfigError as one line per problem and exits 1; rethrows anything else. */
export function exitOnConfigError(err: unknown, app: string): never {
  if (err instanceof Error && err.name === 'ConfigError') {
    process.stderr.write(`${app}: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

/** A composition root's first step: the parsed environment, or one line per problem and exit 1. */
export function loadEnvOrExit<T>(load: () => T, app: string): T {
  try {
    return load();
  } catch (err) {
    return exitOnConfigError(err, app);
  }
}

/**
 * Options for a cross-field `superRefine` of an env schema: zod skips such a rule once any
 * field has failed, so a bad PORT would hide a missing API_KEYS until the next start. This
 * runs it whenever the fields it reads are themselves valid, so every problem shows at once.
 */
export function whenValid(...variables: string[]): { when: (payload: z.core.ParsePayload) => boolean } {
  return { when: (payload) => !payload.issues.some((issue) => variables.includes(String(issue.path?.[0]))) };
}
