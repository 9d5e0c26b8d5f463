import { describe, expect, it } from '@jest/globals';
import { fileUrl } from '../src/domain/requests.js';
import { parseUrlList, scanUrlListBytes } from '../src/intake/url-list.js';
import { prng } from '../../../test/support/prng.js';
import { urlCorpus } from '../../../test/support/url-corpus.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** What the text scan read, or null. */
const textUrls = (text: string) =>
  scanUrlListBytes(bytes(text))
    ?.toFiles()
    .map((f) => f.url) ?? null;

describe('scanUrlListBytes', () => {
  it('when 100,000 lines are plain URLs among blank lines and comments (LF, CRLF, a BOM, no last newline), then it reads what parseUrlList reads and packs batches as JSON.stringify would', () => {
    const urls = Array.from({ length: 100_000 }, (_, i) => `https://media.example.com/r/call-${i}.m4a?x=${i}#t`);
    const text =
      '\ufeff# nightly\n\n' +
      urls
        .map((u, i) => (i % 3 === 0 ? `${u}\r\n` : i % 1000 === 1 ? `${u}\n# part\n\r\n` : `${u}\n`))
        .join('')
        .trimEnd();
    const scanned = scanUrlListBytes(bytes(text));
    expect(scanned).not.toBeNull();
    expect(scanned!.toFiles().map((f) => f.url)).toEqual(parseUrlList(text).urls);
    for (const [from, to] of [
      [0, 100],
      [99_900, 100_000],
      [7, 8],
    ] as const) {
      expect(scanned!.packed(from, to).toString()).toBe(JSON.stringify(urls.slice(from, to)));
    }
  });

  it('when URLs of every length are apart by LF, CRLF or a blank line (at most 3 bytes, moved in place), then each batch packs as JSON.stringify would', () => {
    const ends = ['\n', '\r\n', '\n\n', '\r\n\n', '\n\r\n'];
    const urls = Array.from({ length: 10_000 }, (_, i) => `https://a.example/${'x'.repeat(i % 97)}${i}`);
    const text = urls.map((u, i) => `${u}${ends[i % ends.length]}`).join('');
    const scanned = scanUrlListBytes(bytes(text))!;
    for (const size of [1, 7, 100]) {
      for (let from = 0; from < urls.length; from += size) {
        const to = Math.min(urls.length, from + size);
        expect(scanned.packed(from, to).toString()).toBe(JSON.stringify(urls.slice(from, to)));
      }
    }
  });

  it.each([
    ['a URL indented', '  https://a.example/1\n'],
    ['a URL with a trailing space', 'https://a.example/1 \n'],
    ['a comment after a URL', 'https://a.example/1 # first\n'],
    ['a tab inside a URL', 'https://a.example/1\tx\n'],
    ['a URL that needs URL.canParse (a port)', 'https://a.example:8443/1\n'],
    ['a quote in a URL', 'https://a.example/"1\n'],
    ['a lone CR between lines', 'https://a.example/1\rhttps://a.example/2\n'],
    ['an indented comment', '  # note\nhttps://a.example/1\n'],
    ['only comments and blank lines', '# nothing\n\n# yet\n'],
    ['an empty body', ''],
  ])('when the list has %s, then it is left to the general path', (_what, text) => {
    expect(scanUrlListBytes(bytes(text))).toBeNull();
  });

  it('when a URL is one the scan reads from a line, then the fileUrl schema accepts it and parseUrlList reads the same', () => {
    const corpus = urlCorpus(0x7e47);
    const read = corpus.filter((u) => textUrls(`${u}\n`) !== null);
    expect(read.filter((u) => !fileUrl.safeParse(u).success || parseUrlList(`${u}\n`).urls[0] !== u)).toEqual([]);
    expect(read.length).toBeGreaterThan(2_000);
  });

  it('when lines are glued from URLs, spaces, line ends and comments (seeded, 20,000 lists), then whatever the scan reads is what parseUrlList reads, with no error', () => {
    const next = prng(0x11e5);
    const pieces = [
      'https://a.example/1',
      'http://b.example/2?q#f',
      'https://c.example:1/x',
      '\n',
      '\r\n',
      '\r',
      ' ',
      '\t',
      '#',
      '# c\n',
      ' # c',
      '\ufeff',
      'x',
    ];
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let k = Math.floor(next() * 8); k >= 0; k--) text += pieces[Math.floor(next() * pieces.length)]!;
      const urls = textUrls(text);
      if (urls === null) continue;
      read++;
      const general = parseUrlList(text);
      expect({ text, urls, errors: [] }).toEqual({ text, urls: general.urls, errors: general.errors });
    }
    expect(read).toBeGreaterThan(500);
  });
});
