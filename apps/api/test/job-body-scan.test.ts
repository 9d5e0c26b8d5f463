import { describe, expect, it } from '@jest/globals';
import { fileUrl } from '@batchscribe/shared';
import { scanJobBody } from '../src/jobs/job-body-scan.js';
import { prng } from '../../../test/support/prng.js';
import { urlCorpus } from '../../../test/support/url-corpus.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const scanText = (text: string) => scanJobBody(bytes(text));
const listed = (urls: string[]) => bytes(JSON.stringify({ file_urls: urls }));

/** What the scan read, as JSON.parse would have given it. */
function asParsed(text: string): unknown {
  const scanned = scanText(text);
  if (scanned === null) return null;
  return { ...scanned.rest, file_urls: scanned.urls.toFiles().map((f) => f.url) };
}

describe('scanJobBody', () => {
  it('when a 100,000-URL list is compact, then it reads every URL and packs each batch byte for byte as JSON.stringify would', () => {
    const urls = Array.from({ length: 100_000 }, (_, i) => `https://media.example.com/r/call-${i}.m4a?sig=a%2Fb#t=${i}`);
    const scanned = scanJobBody(bytes(JSON.stringify({ name: 'nightly', file_urls: urls, metadata: { a: [1, { b: 'ü' }] } })));
    expect(scanned).not.toBeNull();
    expect(scanned!.rest).toEqual({ name: 'nightly', file_urls: [], metadata: { a: [1, { b: 'ü' }] } });
    expect(scanned!.urls.length).toBe(100_000);
    expect([scanned!.urls.url(0), scanned!.urls.url(54_321), scanned!.urls.url(99_999)]).toEqual([urls[0], urls[54_321], urls[99_999]]);
    for (const [from, to] of [
      [0, 100],
      [99_900, 100_000],
      [500, 501],
      [0, 100_000],
    ] as const) {
      expect(scanned!.urls.packed(from, to).toString()).toBe(JSON.stringify(urls.slice(from, to)));
    }
    expect(() => scanned!.urls.packed(0, 100_001)).toThrow(RangeError);
    expect(() => scanned!.urls.url(100_000)).toThrow(RangeError);
  });

  it('when an Idempotency-Key fingerprints the request, then the list reads as the same file inputs the general path makes', () => {
    const scanned = scanJobBody(listed(['https://a.example/1.wav', 'https://a.example/2.wav']));
    expect(JSON.stringify({ files: scanned!.urls })).toBe(
      JSON.stringify({ files: [{ url: 'https://a.example/1.wav' }, { url: 'https://a.example/2.wav' }] }),
    );
  });

  it.each([
    ['whitespace inside the list', '{"file_urls": ["https://a.example/1", "https://a.example/2"]}'],
    ['a pretty-printed list', JSON.stringify({ file_urls: ['https://a.example/1', 'https://a.example/2'] }, null, 2)],
    ['an escaped slash', '{"file_urls":["https:\\/\\/a.example/1"]}'],
    ['an escaped quote', '{"file_urls":["https://a.example/\\"x"]}'],
    ['a non-ASCII URL', '{"file_urls":["https://a.example/é"]}'],
    ['a URL that needs URL.canParse (a port)', '{"file_urls":["https://a.example:8443/1"]}'],
    ['an IPv4 host', '{"file_urls":["https://10.0.0.1/1"]}'],
    ['a punycode label', '{"file_urls":["https://xn--nxasmq6b.example/1"]}'],
    ['an empty list', '{"file_urls":[]}'],
    ['a list with a number', '{"file_urls":["https://a.example/1",2]}'],
    ['two file_urls, the second empty', '{"file_urls":["https://a.example/1"],"file_urls":[]}'],
    ['two file_urls, the first empty', '{"file_urls":[],"file_urls":["https://a.example/1"]}'],
    ['a file_urls key spelled with an escape, twice', '{"file_urls":["https://a.example/1"],"file\\u005furls":[]}'],
    ['file_urls nested in another member', '{"job":{"file_urls":["https://a.example/1"]}}'],
    ['file_urls inside a string', '{"name":"\\"file_urls\\":[\\"https://a.example/1\\"]"}'],
    ['files instead', '{"files":[{"url":"https://a.example/1"}]}'],
    ['a byte-order mark', '\ufeff{"file_urls":["https://a.example/1"]}'],
    ['trailing garbage', '{"file_urls":["https://a.example/1"]} x'],
    ['invalid JSON after the list', '{"file_urls":["https://a.example/1"],"name":}'],
    ['invalid JSON before the list', '{"name":01,"file_urls":["https://a.example/1"]}'],
    ['an unterminated object', '{"file_urls":["https://a.example/1"]'],
    ['a top-level array', '["https://a.example/1"]'],
    ['an empty object', '{}'],
    ['an empty body', ''],
  ])('when the body has %s, then it is left to the general path', (_what, text) => {
    expect(scanText(text)).toBeNull();
  });

  it('when the body is fine around the list (escapes, nesting, brackets in strings), then the rest reads as JSON.parse reads it', () => {
    const text =
      '{ "name" : "a \\"quoted\\" ]}[{ name", "file_urls":["https://a.example/1"] ,\n"metadata":{"k":["]",{"x":"}"}]},"reuse":false }';
    expect(asParsed(text)).toEqual(JSON.parse(text));
  });

  it('when a URL is one the scan reads, then the fileUrl schema accepts it (hostile, glued and edge corpora)', () => {
    const corpus = urlCorpus(0xb0d1);
    const read = corpus.filter((u) => scanJobBody(listed([u])) !== null);
    expect(read.filter((u) => !fileUrl.safeParse(u).success)).toEqual([]);
    // The scan is not vacuous: it reads thousands of them, ordinary ones included.
    expect(read.length).toBeGreaterThan(2_000);
    expect(read).toContain('https://media.example.com/recordings/call-000001.m4a');
  });

  it('when a valid body is cut or has a byte changed (seeded, 20,000 times), then whatever the scan reads is what JSON.parse reads, and nothing JSON.parse refuses', () => {
    const next = prng(0x5ca7);
    const base =
      '{"name":"n\\u00e9 \\"x\\"","file_urls":["https://a.example/1","http://b.example/2?q#f"],"metadata":{"a":[1,"]"]},"reuse":true}';
    const alphabet = '{}[]",:\\ x1-';
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const at = Math.floor(next() * base.length);
      const roll = next();
      const text =
        roll < 0.2
          ? base.slice(0, at)
          : roll < 0.6
            ? base.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)]! + base.slice(at + 1)
            : base.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)]! + base.slice(at);
      const scanned = asParsed(text);
      if (scanned === null) continue;
      read++;
      expect(scanned).toEqual(JSON.parse(text));
    }
    expect(read).toBeGreaterThan(100);
  });
});
