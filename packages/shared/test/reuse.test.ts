import { describe, expect, it } from '@jest/globals';
import { canonicalJson, reuseFingerprint } from '../src/domain/reuse.js';
import { packLeaders, reuseIdentity, unpackHome } from '../src/store/file-entries.js';

describe('reuse fingerprints', () => {
  it('when options differ only in key order, then they are the same; arrays keep their order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    const url = 'https://media.example.com/a.wav';
    const one = reuseFingerprint(url, 'paraformer-v2', { recognition: { x: 1, y: 2 }, language_hints: ['en', 'zh'] });
    expect(one).toMatch(/^[0-9a-f]{24}$/);
    expect(reuseFingerprint(url, 'paraformer-v2', { language_hints: ['en', 'zh'], recognition: { y: 2, x: 1 } })).toBe(one);
    expect(reuseFingerprint(url, 'paraformer-v2', { language_hints: ['zh', 'en'], recognition: { x: 1, y: 2 } })).not.toBe(one);
    expect(reuseFingerprint(url, 'paraformer-8k-v2', { language_hints: ['en', 'zh'], recognition: { x: 1, y: 2 } })).not.toBe(one);
    expect(reuseFingerprint(`${url}?v=2`, 'paraformer-v2', { language_hints: ['en', 'zh'], recognition: { x: 1, y: 2 } })).not.toBe(one);
  });

  it('when no option is given, then it is the same as empty options, and other job fields do not count', () => {
    const url = 'https://media.example.com/b.wav';
    expect(reuseFingerprint(url, 'paraformer-v2', {})).toBe(
      reuseFingerprint(url, 'paraformer-v2', { name: 'x', metadata: { a: 1 } } as unknown as Record<string, never>),
    );
  });

  it('when a file is an upload with a content hash, then its identity is the hash, whatever its URL', () => {
    expect(reuseIdentity({ u: 'https://media.example.com/c.wav' })).toBe('https://media.example.com/c.wav');
    expect(reuseIdentity({ url: 'https://media.example.com/c.wav' })).toBe('https://media.example.com/c.wav');
    expect(reuseIdentity({ u: '', h: 'ab'.repeat(32) })).toBe(`sha256:${'ab'.repeat(32)}`);
  });
});

describe('repeats within one job', () => {
  it('when files repeat earlier ones, then each home notes the first copy of each, and only homes that have repeats', () => {
    const [a, b, c] = ['https://x.example/a', 'https://x.example/b', 'https://x.example/c'];
    const files = [a, b, a, c, c, b, a].map((url) => ({ url }));
    expect(packLeaders(files, 3)).toEqual(
      new Map([
        [0, JSON.stringify({ 2: 0 })],
        [1, JSON.stringify({ 1: 3, 2: 1 })],
        [2, JSON.stringify({ 0: 0 })],
      ]),
    );
    expect(
      packLeaders(
        [a, b, c].map((url) => ({ url })),
        2,
      ),
    ).toEqual(new Map());
  });

  it('when a home holds reused files and repeats, then its records say where each reused file reads and which file each repeats', () => {
    const fields = {
      f: JSON.stringify(['https://x.example/a', 'https://x.example/b', 'https://x.example/a']),
      st: 'cqc',
      err: null,
      via: null,
      task_id: 'task-1',
      ru: JSON.stringify({ 0: '0:7', 2: '1:0' }),
      rs: JSON.stringify(['job_src', 'job_self']),
      dup: JSON.stringify({ 2: 0 }),
    };
    const records = unpackHome(0, 3, fields, () => null).map((r) => r.record);
    expect(records[0]).toEqual({ u: 'https://x.example/a', b: 0, s: 'completed', rf: { j: 'job_src', i: 7 } });
    expect(records[1]).toEqual({ u: 'https://x.example/b', b: 0, s: 'queued' });
    expect(records[2]).toEqual({ u: 'https://x.example/a', b: 0, s: 'completed', rf: { j: 'job_self', i: 0 }, ld: 0 });
    expect(() => unpackHome(0, 3, { ...fields, rs: JSON.stringify(['job_src']) }, () => null)).toThrow(/unreadable reuse source/);
  });
});
