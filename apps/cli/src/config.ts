import { z } from 'zod';
import { DEFAULT_PROFILE, type ConfigFile } from './config-file.js';
import { CliError } from './errors.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

export interface Connection {
  /** Without a trailing slash; may carry a path prefix (`https://host/batchscribe`). */
  baseUrl: string;
  /** Where the URL came from (`--url`, `BATCHSCRIBE_URL`, a profile, `default`): named when it cannot be reached. */
  urlSource: string;
  token: string;
  /** Where the token came from (`--token`, `BATCHSCRIBE_TOKEN`, `profile prod`): named when the server refuses it. */
  tokenSource: string;
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
  profile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export const baseUrlSchema = z
  .string()
  .trim()
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), { message: 'must be an http or https URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/** `--profile`, else `BATCHSCRIBE_PROFILE`, else `default`; `explicit` when the user named it. */
export function selectedProfile(flags: ConnectionFlags, env: Env): { name: string; explicit: boolean } {
  const named = flags.profile?.trim() || env.BATCHSCRIBE_PROFILE?.trim();
  return named ? { name: named, explicit: true } : { name: DEFAULT_PROFILE, explicit: false };
}

/**
 * Each of URL and token, first found wins: the flag, the environment variable, the profile in
 * the config file, the default (none for the token). An empty value counts as unset. No token
 * at all is an error here, before any request is made.
 */
export function resolveConnection(flags: ConnectionFlags, env: Env, config: ConfigFile): Connection {
  const profile = selectedProfile(flags, env);
  const entry = config.data.profiles[profile.name];
  if (profile.explicit && !entry) {
    const known = Object.keys(config.data.profiles);
    throw new CliError(
      `no profile "${profile.name}" in ${config.path}${known.length > 0 ? ` (profiles: ${known.join(', ')})` : ''}; ` +
        `create it with: batchscribe config set --profile ${profile.name} url URL`,
    );
  }
  const fromProfile = `the url of profile ${profile.name}`;
  const [urlSource, rawUrl] = firstSet([
    ['--url', flags.url],
    ['BATCHSCRIBE_URL', env.BATCHSCRIBE_URL],
    [fromProfile, entry?.url],
    ['default', DEFAULT_BASE_URL],
  ]) ?? ['default', DEFAULT_BASE_URL];
  const parsed = baseUrlSchema.safeParse(rawUrl);
  if (!parsed.success) throw new CliError(`${urlSource} ${parsed.error.issues[0]?.message ?? 'is invalid'}: ${rawUrl}`);
  const token = firstSet([
    ['--token', flags.token],
    ['BATCHSCRIBE_TOKEN', env.BATCHSCRIBE_TOKEN],
    [`profile ${profile.name}`, entry?.token],
  ]);
  if (!token) {
    throw new CliError(
      `no token set: give --token, set BATCHSCRIBE_TOKEN, or store one with: batchscribe config set${profile.explicit ? ` --profile ${profile.name}` : ''} token -`,
    );
  }
  return { baseUrl: parsed.data, urlSource, token: token[1], tokenSource: token[0] };
}

function firstSet(candidates: Array<[source: string, value: string | undefined]>): [string, string] | undefined {
  for (const [source, value] of candidates) {
    const trimmed = value?.trim();
    if (trimmed) return [source, trimmed];
  }
  return undefined;
}
