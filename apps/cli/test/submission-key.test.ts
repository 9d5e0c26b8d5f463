import { describe, expect, it } from '@jest/globals';
import { canonicalJson, idempotencyKeyFor, inputDigest, type KeyedInput } from '../src/submission-key.js';

const SERVER = 'https://bs.example.com';
const inputs: KeyedInput[] = [
  { kind: 'upload', ref: '2026/a.m4a', size: 1000, fingerprint: 'disk\0/m/2026/a.m4a\x001000\x001700000000000' },
  { kind: 'upload', ref: 'b.wav', size: 20, fingerprint: 'zip\0/m/x.zip\0b.wav\x0012345\x0020' },
  { kind: 'url', url: 'https://media.example.com/c.wav', ref: 'c' },
  { kind: 'url', url: 'https://media.example.com/d.wav' },
];
const fields = { model: 'paraformer-v2', metadata: { team: 'ops', quarter: 'Q4' }, language_hints: ['zh', 'en'] };

describe('inputDigest: the same inputs give the same key, run after run', () => {
  it('when computed twice from equal inputs built apart, then it is the same', () => {
    const again = JSON.parse(JSON.stringify(inputs)) as KeyedInput[];
    expect(inputDigest(SERVER, again, { ...fields })).toBe(inputDigest(SERVER, inputs, fields));
    expect(inputDigest(SERVER, inputs, fields)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('when a JSON input orders its object keys differently, then it is the same', () => {
    const reordered = { language_hints: ['zh', 'en'], metadata: { quarter: 'Q4', team: 'ops' }, model: 'paraformer-v2' };
    expect(inputDigest(SERVER, inputs, reordered)).toBe(inputDigest(SERVER, inputs, fields));
  });

  it.each<[string, (i: KeyedInput[]) => KeyedInput[], Record<string, unknown>, string]>([
    ['a ref', (i) => i.map((x, n) => (n === 0 ? { ...x, ref: '2026/a2.m4a' } : x)), fields, SERVER],
    ['a size', (i) => i.map((x, n) => (n === 1 ? { ...x, size: 21 } : x)), fields, SERVER],
    [
      'a fingerprint (file touched)',
      (i) => i.map((x, n) => (n === 0 ? { ...x, fingerprint: `${(x as { fingerprint: string }).fingerprint}1` } : x)),
      fields,
      SERVER,
    ],
    ['a URL', (i) => i.map((x, n) => (n === 3 ? { ...x, url: 'https://media.example.com/e.wav' } : x)), fields, SERVER],
    ['the order', (i) => [i[1]!, i[0]!, i[2]!, i[3]!], fields, SERVER],
    ['one input fewer', (i) => i.slice(1), fields, SERVER],
    ['an option', (i) => i, { ...fields, model: 'paraformer-8k-v2' }, SERVER],
    ['metadata', (i) => i, { ...fields, metadata: { team: 'ops' } }, SERVER],
    ['the server', (i) => i, fields, 'https://bs.staging.example.com'],
  ])('when %s changes, then the digest changes', (_what, change, otherFields, server) => {
    expect(inputDigest(server, change(inputs), otherFields)).not.toBe(inputDigest(SERVER, inputs, fields));
  });

  it('when a URL and an upload carry the same text, then they still differ (the kinds are part of the digest)', () => {
    const asUrl: KeyedInput[] = [{ kind: 'url', url: 'x', ref: 'y' }];
    const asUpload: KeyedInput[] = [{ kind: 'upload', ref: 'x', size: 0, fingerprint: 'y' }];
    expect(inputDigest(SERVER, asUrl, {})).not.toBe(inputDigest(SERVER, asUpload, {}));
  });
});

describe('idempotencyKeyFor', () => {
  it('when given the same digest and nonce, then the same key, within the API’s 255 characters; a new nonce gives a new key', () => {
    const digest = inputDigest(SERVER, inputs, fields);
    const key = idempotencyKeyFor(digest, 'abc123');
    expect(key).toBe(idempotencyKeyFor(digest, 'abc123'));
    expect(key).toBe(`bs-cli-${digest.slice(0, 40)}-abc123`);
    expect(idempotencyKeyFor(digest)).toMatch(/^bs-cli-[0-9a-f]{40}-[0-9a-f]{16}$/);
    expect(idempotencyKeyFor(digest)).not.toBe(idempotencyKeyFor(digest));
    expect(idempotencyKeyFor(digest).length).toBeLessThanOrEqual(255);
  });
});

describe('canonicalJson', () => {
  it('when objects nest, then keys are sorted at every depth, arrays keep their order, undefined members are left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
