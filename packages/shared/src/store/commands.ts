import type { Redis } from 'ioredis';

/** One Lua script of the store. `keys` omitted: the key count is passed as the call's first argument. */
export interface ScriptDefinition {
  readonly lua: string;
  readonly keys?: number;
}

/**
 * Defines the scripts on the connection once (ioredis sends EVALSHA and loads the source only
 * when Redis does not know it yet), and returns the connection typed with them. A second store
 * on the same connection finds them defined already.
 */
export function withScripts<T extends object>(redis: Redis, scripts: Record<keyof T & string, ScriptDefinition>): Redis & T {
  for (const [name, def] of Object.entries(scripts) as Array<[string, ScriptDefinition]>) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    redis.defineCommand(name, def.keys === undefined ? { lua: def.lua } : { numberOfKeys: def.keys, lua: def.lua });
  }
  return redis as Redis & T;
}

/** The message of an error reply a script gave on purpose (`DAMAGED …`, `BADARGS …`, `STALE …`), or null. */
export function scriptRefusal(err: unknown): { word: 'DAMAGED' | 'BADARGS' | 'STALE'; detail: string } | null {
  const message = err instanceof Error ? err.message : '';
  const match = /^(DAMAGED|BADARGS|STALE) (.*)$/s.exec(message);
  if (!match) return null;
  return { word: match[1] as 'DAMAGED' | 'BADARGS' | 'STALE', detail: match[2]! };
}
