import { configPath, loadConfig, PROFILE_KEYS, saveConfig, type Profile, type ProfileKey } from '../config-file.js';
import { baseUrlSchema, selectedProfile, type ConnectionFlags } from '../config.js';
import { CliError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { readFirstLine, type CliIo } from '../io.js';

function profileKey(key: string): ProfileKey {
  if ((PROFILE_KEYS as readonly string[]).includes(key)) return key as ProfileKey;
  throw new CliError(`unknown setting "${key}": a profile has ${PROFILE_KEYS.join(' and ')}`);
}

/**
 * `config set [--profile P] url URL token -`: key/value pairs into one profile. A value of `-`
 * is read from stdin, so a token need not be typed on the command line (where shell history
 * and `ps` would keep it).
 */
export async function configSetCommand(io: CliIo, flags: ConnectionFlags, pairs: readonly string[]): Promise<ExitCode> {
  if (pairs.length === 0 || pairs.length % 2 !== 0) {
    throw new CliError('config set takes KEY VALUE pairs: url URL, token TOKEN (or token - to read it from stdin)');
  }
  if (pairs.filter((v, i) => i % 2 === 1 && v === '-').length > 1)
    throw new CliError('only one value can be read from stdin (-) at a time');
  const updates: Partial<Record<ProfileKey, string>> = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const key = profileKey(pairs[i] ?? '');
    let value = pairs[i + 1] ?? '';
    if (value === '-') {
      if (io.stdin.isTTY) io.stderr.write(`${key} (then Enter): `);
      value = await readFirstLine(io.stdin);
    }
    value = value.trim();
    if (value === '') throw new CliError(`${key} is empty`);
    if (key === 'url') {
      const parsed = baseUrlSchema.safeParse(value);
      if (!parsed.success) throw new CliError(`url must be an http or https URL: ${value}`);
      value = parsed.data;
    }
    updates[key] = value;
  }
  const file = await loadConfig(io.env);
  const { name } = selectedProfile(flags, io.env);
  file.data.profiles[name] = { ...file.data.profiles[name], ...updates };
  await saveConfig(file);
  io.stderr.write(`profile ${name}: ${Object.keys(updates).join(', ')} saved to ${file.path}\n`);
  return EXIT.ok;
}

export async function configUnsetCommand(io: CliIo, flags: ConnectionFlags, keys: readonly string[]): Promise<ExitCode> {
  const file = await loadConfig(io.env);
  const { name } = selectedProfile(flags, io.env);
  const profile = file.data.profiles[name];
  if (!profile) throw new CliError(`no profile "${name}" in ${file.path}`);
  const remaining: Profile = { ...profile };
  for (const key of keys) delete remaining[profileKey(key)];
  if (keys.length === 0 || Object.keys(remaining).length === 0) delete file.data.profiles[name];
  else file.data.profiles[name] = remaining;
  await saveConfig(file);
  io.stderr.write(keys.length === 0 ? `profile ${name} removed\n` : `profile ${name}: ${keys.join(', ')} removed\n`);
  return EXIT.ok;
}

/** Every profile with its URL; tokens are never printed, only whether one is set. */
export async function configShowCommand(io: CliIo, flags: ConnectionFlags): Promise<ExitCode> {
  const file = await loadConfig(io.env);
  const selected = selectedProfile(flags, io.env).name;
  io.stdout.write(`${file.path}${file.exists ? '' : ' (not created yet)'}\n`);
  for (const [name, profile] of Object.entries(file.data.profiles)) {
    const mark = name === selected ? '*' : ' ';
    io.stdout.write(`${mark} ${name}: url ${profile.url ?? '(default)'}, token ${profile.token ? 'set' : 'not set'}\n`);
  }
  if (file.readableByOthers) io.stderr.write(`warning: ${file.path} is readable by other users; chmod 600 it\n`);
  return EXIT.ok;
}

export function configPathCommand(io: CliIo): ExitCode {
  io.stdout.write(`${configPath(io.env)}\n`);
  return EXIT.ok;
}
