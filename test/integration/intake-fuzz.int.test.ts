import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deflateSync, gzipSync } from 'node:zlib';
import { rawRequest, type RawResult } from '../support/raw-http.js';
import { Stack, TOKENS } from '../support/stack.js';
import { prng } from '../support/prng.js';

/**
 * A seeded fuzz of the two intake routes, sent as raw bytes over real sockets: whatever comes
 * in, the answer is never a 5xx, every refusal is a well-formed problem+json, and a refused
 * request leaves Redis exactly as it was. The seed is fixed, so a failure replays.
 */

const SEED = 0x5eed_2026;
const CASES = 360;

const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const chance = (p: number) => rand() < p;

const deep = (depth: number, open: string, close: string, leaf: string) => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

/** JSON fragments that have broken parsers and validators before, written as the text a client would send. */
function nastyValue(): string {
  switch (int(24)) {
    case 0:
      return '"\\ud800"';
    case 1:
      return '"ok\\udfffok"';
    case 2:
      return '"a\\u0000b"';
    case 3:
      return JSON.stringify('x'.repeat(10_000));
    case 4:
      return pick(['1e999', '-1e999', '123456789012345678901234567890', '1e-400', '-0', '0.1e1', '9007199254740993']);
    case 5:
      return 'null';
    case 6:
      return pick(['true', 'false', '[]', '{}', '[null]', '[[]]', '""']);
    case 7:
      return '{"__proto__":{"polluted":1},"k":1}';
    case 8:
      return '{"constructor":{"prototype":{"polluted":1}}}';
    case 9:
      return deep(20 + int(12_000), '{"a":', '}', '1');
    case 10:
      return deep(20 + int(12_000), '[', ']', '1');
    case 11:
      return '{"a":1,"a":2,"a":{"b":3}}';
    case 12:
      return JSON.stringify(
        pick(['https://a.example/x y.wav', 'https://a.example/\t.wav', 'https://a.example/\u0007.wav', ' https://a.example/1.wav']),
      );
    case 13:
      return JSON.stringify(pick(['javascript:alert(1)', 'file:///etc/passwd', 'http://', 'https://[::1', '//a.example/x.wav']));
    case 14:
      return JSON.stringify(Array.from({ length: 20 }, () => pick(['zh', 'en', 'ja', 'xx', 'ZH'])));
    case 15:
      return JSON.stringify(Array.from({ length: 1 + int(40) }, () => pick([0, 1, -1, 1.5, 2 ** 53, 17])));
    case 16:
      return JSON.stringify(pick(['😀', '\u202Eevil', '\uFEFF', 'ﬀ', 'é', '\u0085']));
    case 17:
      return JSON.stringify(Array.from({ length: 1_000 }, (_, i) => `https://a.example/${i}.wav`));
    case 18:
      return JSON.stringify({ hot_words: 'w'.repeat(int(8_000)) });
    case 19:
      return `{${Array.from({ length: 300 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    case 20:
      return '"\\ud83d\\ude00"';
    case 21:
      return JSON.stringify(
        Array.from({ length: 1 + int(3) }, () => ({ url: 'https://a.example/1.wav', ref: pick(['r', '\ud800', 'x'.repeat(300)]) })),
      );
    case 22:
      return pick(['"paraformer-v2"', '"paraformer-8k-v2"', '"bulk"', '"interactive"', '"UTC"', '"0 2 * * *"', '"*/0 * * * *"']);
    default:
      return JSON.stringify({ nested: { list: [1, 'two', null, { three: 3 }] } });
  }
}

const PLACEHOLDER = '\u0001fuzz\u0001';

function baseJob(): Record<string, unknown> {
  const body: Record<string, unknown> = chance(0.5)
    ? { file_urls: ['https://a.example/1.wav', 'https://a.example/2.wav'] }
    : { files: [{ url: 'https://a.example/1.wav', ref: 'one' }] };
  if (chance(0.5)) body.model = pick(['paraformer-v2', 'paraformer-8k-v2']);
  if (chance(0.3)) body.metadata = { team: 'a' };
  if (chance(0.3)) body.language_hints = ['en'];
  return body;
}

function baseSchedule(): Record<string, unknown> {
  return { name: 'nightly', cron: '0 2 * * *', file_urls: ['https://a.example/1.wav'], job: chance(0.7) ? { model: 'paraformer-v2' } : {} };
}

const JOB_TARGETS = [
  'model',
  'file_urls',
  'file_urls.0',
  'files',
  'files.0',
  'files.0.url',
  'files.0.ref',
  'name',
  'metadata',
  'metadata.k',
  'language_hints',
  'channel_id',
  'recognition',
  'diarization',
  'callback_url',
  'priority',
  'idempotency',
  '__proto__',
];
const SCHEDULE_TARGETS = [
  'name',
  'cron',
  'timezone',
  'manifest_url',
  'file_urls',
  'file_urls.0',
  'job',
  'job.metadata',
  'job.language_hints',
  'job.recognition',
  'job.name',
  'job.__proto__',
];

/** Puts the placeholder at a dotted path, making the containers it needs. */
function setAt(body: Record<string, unknown>, path: string): void {
  const parts = path.split('.');
  let node: Record<string, unknown> = body;
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      Object.defineProperty(node, part, { value: PLACEHOLDER, enumerable: true, writable: true, configurable: true });
      return;
    }
    const next = node[part];
    if (typeof next !== 'object' || next === null) {
      const made: Record<string, unknown> = /^\d+$/.test(parts[i + 1]!) ? ([] as unknown as Record<string, unknown>) : {};
      node[part] = made;
      node = made;
    } else node = next as Record<string, unknown>;
  }
}

function jsonText(schedule: boolean): string {
  const body = schedule ? baseSchedule() : baseJob();
  const mutations = chance(0.15) ? 0 : 1 + int(3);
  const fragments: string[] = [];
  for (let m = 0; m < mutations; m++) {
    const target = pick(schedule ? SCHEDULE_TARGETS : JOB_TARGETS);
    setAt(body, target);
    fragments.push(nastyValue());
  }
  let text = JSON.stringify(body);
  // Each placeholder left in the text takes the next fragment (a later mutation may overwrite an earlier one).
  for (const fragment of fragments) text = text.replace(JSON.stringify(PLACEHOLDER), () => fragment);
  if (chance(0.1)) text = text.replace('{', '{"name":"first","name":"second",');
  if (chance(0.05)) text = pick(['null', '[]', '"string"', '42', '', '{', '{"file_urls":', '\u0000']);
  return text;
}

function textList(): string {
  const lines = Array.from({ length: 1 + int(6) }, () =>
    pick([
      'https://a.example/1.wav',
      'https://a.example/2.wav # comment',
      '# only a comment',
      '',
      '   ',
      'https://a.example/has space.wav',
      'https://a.example/\u0000nul.wav',
      'https://a.example/\u0007bell.wav',
      'https://a.example/x.wav#frag',
      'not a url',
      '\uFEFFhttps://a.example/bom.wav',
      `https://a.example/${'x'.repeat(10_000)}.wav`,
      'https://a.example/\ud800.wav',
      'ftp://a.example/x.wav',
    ]),
  );
  return lines.join(pick(['\n', '\r\n', '\r']));
}

interface FuzzCase {
  label: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Byte-level damage a text-level generator cannot express. */
function damageBytes(bytes: Buffer): { bytes: Buffer; label: string } {
  switch (int(14)) {
    case 0:
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]), label: 'bom' };
    case 1: {
      const at = int(bytes.length + 1);
      const bad = pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]);
      return { bytes: Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]), label: 'invalid-utf8' };
    }
    case 2: {
      const at = int(bytes.length + 1);
      return { bytes: Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]), label: 'raw-nul' };
    }
    case 3:
      return { bytes: bytes.subarray(0, int(bytes.length)), label: 'truncated' };
    default:
      return { bytes, label: 'intact' };
  }
}

function encode(text: string, charset: string): Buffer {
  if (charset === 'utf-16le') return Buffer.from(text, 'utf16le');
  if (charset === 'latin1') return Buffer.from(text, 'latin1');
  return Buffer.from(text, 'utf8');
}

function fuzzCase(n: number): FuzzCase {
  const schedule = chance(0.35);
  const plain = !schedule && chance(0.25);
  const text = plain ? textList() : jsonText(schedule);
  const charset = chance(0.8) ? pick(['', 'utf-8']) : pick(['utf-16le', 'latin1', 'utf-32', 'x-unknown']);
  const baseType = plain
    ? 'text/plain'
    : chance(0.85)
      ? 'application/json'
      : pick(['application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded', '']);
  const headers: Record<string, string> = { authorization: `Bearer ${TOKENS.acme}` };
  if (baseType) headers['content-type'] = charset ? `${baseType}; charset=${charset}` : baseType;
  const damaged = damageBytes(encode(text, charset));
  let body = damaged.bytes;
  const coding = chance(0.75) ? '' : pick(['gzip', 'gzip', 'gzip-garbage', 'deflate-garbage', 'br-garbage', 'compress', 'identity']);
  if (coding === 'gzip') {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  } else if (coding === 'gzip-garbage') headers['content-encoding'] = 'gzip';
  else if (coding === 'deflate-garbage') {
    body = chance(0.5) ? body : deflateSync(body).subarray(0, 5);
    headers['content-encoding'] = 'deflate';
  } else if (coding === 'br-garbage') headers['content-encoding'] = 'br';
  else if (coding) headers['content-encoding'] = coding;
  const query = plain
    ? pick([
        '',
        '?model=paraformer-v2',
        '?language_hints=zh,zh',
        '?langauge_hints=zh',
        '?name=%ED%A0%80',
        '?model=a&model=b',
        '?priority=bulk&callback_url=javascript:x',
      ])
    : pick(['', '', '', '', '?model=paraformer-v2', '?x=1', '?__proto__=1']);
  const path = (schedule ? '/v1/schedules' : '/v1/jobs') + query;
  return {
    label: `#${n} ${path} ${headers['content-type'] ?? '-'} ${headers['content-encoding'] ?? '-'} ${damaged.label}`,
    path,
    headers,
    body,
  };
}

const PROBLEM_TYPES = [
  'malformed-request',
  'unsupported-media-type',
  'validation-error',
  'payload-too-large',
  'conflict',
  'idempotency-conflict',
];

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ worker: false, apiEnv: { MAX_FILES_PER_JOB: '200', MAX_SCHEDULES_PER_TENANT: '1000' } });
});
afterAll(async () => {
  await stack.stop();
});

/** Every key with its serialized value and whether it expires, in one round trip: equal before and after = nothing written. */
async function redisState(): Promise<string> {
  const keys = (await stack.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));
  if (keys.length === 0) return '';
  const pipeline = stack.redis.pipeline();
  for (const key of keys) pipeline.dumpBuffer(key).pttl(key);
  const replies = (await pipeline.exec()) ?? [];
  return keys
    .map((key, i) => {
      const dump = replies[2 * i]?.[1] as Buffer | null;
      const ttl = replies[2 * i + 1]?.[1] as number;
      return `${key}=${dump?.toString('base64') ?? ''}:${ttl >= 0 ? 'ttl' : 'none'}`;
    })
    .join('\n');
}

function checkProblem(c: FuzzCase, res: RawResult): void {
  expect({ case: c.label, contentType: res.headers['content-type'] }).toEqual({
    case: c.label,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect(problem).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(new RegExp(`^https://batchscribe\\.dev/problems/(${PROBLEM_TYPES.join('|')})$`)),
      title: expect.any(String),
      status: res.status,
      detail: expect.any(String),
    }),
  );
  if (problem.errors !== undefined) {
    expect(Array.isArray(problem.errors)).toBe(true);
    for (const e of problem.errors as unknown[]) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
}

describe('intake fuzz: POST /v1/jobs and POST /v1/schedules', () => {
  it(`when ${CASES} seeded hostile requests arrive, then none gets a 5xx, each refusal is problem+json, and a refusal writes nothing`, async () => {
    const statuses = new Map<number, number>();
    let state = await redisState();
    for (let n = 0; n < CASES; n++) {
      const c = fuzzCase(n);
      const res = await rawRequest(stack.apiUrl + c.path, { headers: c.headers, body: c.body });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect({ case: c.label, status: res.status, fivexx: res.status >= 500 }).toEqual({
        case: c.label,
        status: res.status,
        fivexx: false,
      });
      const after = await redisState();
      if (res.status >= 400) {
        checkProblem(c, res);
        expect({ case: c.label, unchanged: after === state }).toEqual({ case: c.label, unchanged: true });
      } else {
        expect({ case: c.label, accepted: [201, 202].includes(res.status) }).toEqual({ case: c.label, accepted: true });
        // What was accepted reads back: the stored job or schedule is one the api can serve.
        const location = res.headers.location;
        const read = await stack.request('GET', typeof location === 'string' ? location : '/missing');
        expect({ case: c.label, read: read.status }).toEqual({ case: c.label, read: 200 });
      }
      state = after;
    }
    // The generator reaches both sides: some requests are accepted and several kinds are refused.
    expect(statuses.get(202) ?? 0).toBeGreaterThan(3);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(Object.fromEntries([400, 415, 422].map((s) => [s, (statuses.get(s) ?? 0) > 0]))).toEqual({ 400: true, 415: true, 422: true });
  });
});
