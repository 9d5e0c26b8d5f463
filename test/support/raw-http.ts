import { request } from 'node:http';
import type { Redis } from 'ioredis';

export interface RawResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request over a real socket with the body bytes exactly as given: fetch would re-encode
 * strings as UTF-8 and refuse some headers, and the point here is bytes fetch would not send.
 */
export function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body) headers['content-length'] = opts.body.byteLength;
    const req = request(url, { method: opts.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Every key under a prefix with its type, contents and whether it expires: equal snapshots
 * taken around a request prove it changed nothing (TTLs count down, so only their presence is kept).
 */
export async function snapshotKeys(redis: Redis, pattern: string, skip: (key: string) => boolean = () => false): Promise<string> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch.filter((k) => !skip(k)));
    cursor = next;
  } while (cursor !== '0');
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    const expires = (await redis.pttl(key)) >= 0;
    let value: unknown;
    if (type === 'hash') value = Object.entries(await redis.hgetall(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    else if (type === 'string') value = await redis.get(key);
    else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'list') value = await redis.lrange(key, 0, -1);
    else if (type === 'set') value = (await redis.smembers(key)).sort();
    else value = type;
    out[key] = { type, expires, value };
  }
  return JSON.stringify(out, null, 1);
}
