import { describe, expect, it } from '@jest/globals';
import { parseUrlList } from '../src/intake/url-list.js';

describe('parseUrlList', () => {
  it('when lines have CRLF, blank lines, # lines and comments after whitespace, then only the URLs remain, with their lines', () => {
    const list = parseUrlList(
      '\uFEFF# header\r\nhttps://a.example/1.wav # one\r\n\r\n\thttps://a.example/2.wav\t#two\nhttps://a.example/3.wav#frag\n',
    );
    expect(list).toEqual({
      urls: ['https://a.example/1.wav', 'https://a.example/2.wav', 'https://a.example/3.wav#frag'],
      lines: [2, 4, 5],
      errors: [],
      entries: 3,
    });
  });

  it('when whitespace or a control character is left inside a URL, then an error names its line and index', () => {
    const list = parseUrlList(
      'https://a.example/1.wav\nhttps://a.example/has space.wav\nhttps://a.example/x\u0000.wav\nhttps://a.example/4.wav\n',
    );
    expect(list.urls).toEqual(['https://a.example/1.wav', 'https://a.example/4.wav']);
    expect(list.lines).toEqual([1, 4]);
    expect(list.entries).toBe(4);
    expect(list.errors).toEqual([
      { line: 2, index: 1, message: expect.stringContaining('whitespace (U+0020)') },
      { line: 3, index: 2, message: expect.stringContaining('a control character (U+0000)') },
    ]);
  });

  it('when a lone CR separates lines, then it is a control character inside the URL, not a line break', () => {
    const list = parseUrlList('https://a.example/1.wav\rhttps://a.example/2.wav');
    expect(list.urls).toEqual([]);
    expect(list.errors).toEqual([{ line: 1, index: 0, message: expect.stringContaining('U+000D') }]);
  });

  it('when a line holds a lone surrogate, then it is an error', () => {
    expect(parseUrlList('https://a.example/\ud800.wav').errors).toEqual([
      { line: 1, index: 0, message: expect.stringContaining('well-formed') },
    ]);
  });
});
