import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { findViolations } from '../lib/store-boundary.js';

const whats = (text: string, scope: 'production' | 'test' = 'production') => findViolations('x.ts', text, scope).map((v) => v.what);

describe('the store boundary rule', () => {
  it.each([
    ['an EVAL of a script', `await redis.eval(SCRIPT, 1, key);`, /eval/],
    ['a script defined outside the store', `redis.defineCommand('x', { lua: '' });`, /defineCommand/],
    ['Lua in a string', "const S = `return redis.call('GET', KEYS[1])`;", /Lua/],
    ['a raw command', `await deps.redis.call('HGET', k, 'f');`, /raw Redis command/],
    ['a key built with the layout', `await redis.hget(deps.keys.job(id), 'status');`, /keys\.job/],
    ['a layout key read as a property', `await redis.scard(this.keys.inflight);`, /keys\.inflight/],
    ['a key suffix spelled out', 'const found = `${prefix}:retry`;', /':retry'/],
    ['a fixed key spelled out', "const k = '{bs}:foxapi:inflight';", /foxapi:inflight/],
  ])('when production code holds %s, then it is reported', (_what, text, expected) => {
    expect(whats(text).join('\n')).toMatch(expected);
  });

  it('when production code names the BullMQ prefix or the events channel, or mentions eval in a comment, then nothing is reported', () => {
    const text = [
      '// redis.eval(...) and redis.call are what the store does',
      `new Queue('q', { connection: redis, prefix: keys.bullPrefix });`,
      `new JobEventsHub(subscriber, keys.jobEvents, logger);`,
      `const n = Object.keys(x).length;`,
    ].join('\n');
    expect(whats(text)).toEqual([]);
  });

  it('when a test inspects keys with the layout and raw commands, then that is allowed, but Lua is not', () => {
    expect(whats(`await s.redis.hset(s.keys.files(id), '1', bad); await s.redis.call('MEMORY', 'USAGE', k);`, 'test')).toEqual([]);
    expect(whats(`await s.redis.eval("return redis.call('GET', KEYS[1])", 1, k);`, 'test')).toHaveLength(2);
  });

  it('when run on the repository, then it passes (the apps hold no Redis state logic)', () => {
    const out = execFileSync('node_modules/.bin/tsx', ['scripts/check-store-boundary.ts'], { encoding: 'utf8' });
    expect(out).toMatch(/no Redis state logic outside the store/);
  });
});
