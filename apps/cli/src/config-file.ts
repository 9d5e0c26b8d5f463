import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, describeFsError } from './errors.js';

/** The profile used when neither `--profile` nor `BATCHSCRIBE_PROFILE` names one. */
export const DEFAULT_PROFILE = 'default';

export const PROFILE_KEYS = ['url', 'token'] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

const profileSchema = z.looseObject({ url: z.string().optional(), token: z.string().optional() });
export type Profile = z.infer<typeof profileSchema>;

const configSchema = z.looseObject({ profiles: z.record(z.string(), profileSchema).default({}) });
export type ConfigData = z.infer<typeof configSchema>;

export interface ConfigFile {
  path: string;
  /** False when no file is there yet (every profile is then empty). */
  exists: boolean;
  data: ConfigData;
  /** Group or others may read it: the token in it is not private. */
  readableByOthers: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/batchscribe/config.json`, else `~/.config/batchscribe/config.json`. */
export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'batchscribe', 'config.json');
}

export async function loadConfig(env: Env): Promise<ConfigFile> {
  const path = configPath(env);
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mode)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, data: { profiles: {} }, readableByOthers: false };
    throw new CliError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${path}: ${issue?.path.join('.') || '(top level)'} ${issue?.message ?? 'is invalid'}`);
  }
  return { path, exists: true, data: parsed.data, readableByOthers: (mode & 0o077) !== 0 };
}

/**
 * Writes the file readable by its owner only (0600, in a 0700 directory), through a temporary
 * file and a rename so an interrupted write never leaves half a file.
 */
export async function saveConfig(file: ConfigFile): Promise<void> {
  const dir = dirname(file.path);
  const tmp = `${file.path}.${process.pid}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(file.data, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600); // an existing tmp file keeps its mode through writeFile
    await rename(tmp, file.path);
  } catch (err) {
    throw new CliError(`cannot write ${file.path}: ${describeFsError(err)}`);
  }
}
