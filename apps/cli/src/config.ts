import { z } from 'zod';
import { CliError } from './errors.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

export interface Connection {
  /** Without a trailing slash; may carry a path prefix (`https://host/batchscribe`). */
  baseUrl: string;
  token: string | undefined;
}

const baseUrl = z
  .string()
  .trim()
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), { message: 'must be an http or https URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/** `--url`/`--token` win over `BATCHSCRIBE_URL`/`BATCHSCRIBE_TOKEN`; an empty value counts as unset. */
export function resolveConnection(flags: { url?: string; token?: string }, env: Readonly<Record<string, string | undefined>>): Connection {
  const [source, raw] = flags.url
    ? ['--url', flags.url]
    : env.BATCHSCRIBE_URL
      ? ['BATCHSCRIBE_URL', env.BATCHSCRIBE_URL]
      : ['default', DEFAULT_BASE_URL];
  const parsed = baseUrl.safeParse(raw);
  if (!parsed.success) throw new CliError(`${source} ${parsed.error.issues[0]?.message ?? 'is invalid'}: ${raw}`);
  const token = (flags.token ?? env.BATCHSCRIBE_TOKEN)?.trim();
  return { baseUrl: parsed.data, token: token === '' ? undefined : token };
}
