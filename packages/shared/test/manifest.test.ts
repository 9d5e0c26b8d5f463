import { describe, expect, it } from '@jest/globals';
import { ManifestError, parseManifest } from '../src/schedules/manifest.js';

const errorOf = (fn: () => unknown): ManifestError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw err;
  }
  throw new Error('expected a ManifestError');
};

describe('parseManifest', () => {
  it('when it is text, then one URL a line, CRLF and comments and blank lines skipped, BOM ignored', () => {
    const text = '\uFEFF# archive\r\nhttps://a.example/1.wav\r\n\r\n  https://a.example/2.wav  \n#https://skipped.example\n';
    expect(parseManifest(text, 'text/plain', 10)).toEqual([{ url: 'https://a.example/1.wav' }, { url: 'https://a.example/2.wav' }]);
  });

  it('when it is a JSON array, then strings and {url, ref} objects are both accepted, extra fields ignored', () => {
    const json = JSON.stringify(['https://a.example/1.wav', { url: 'https://a.example/2.wav', ref: 'r2', bytes: 10 }]);
    expect(parseManifest(json, 'application/octet-stream', 10)).toEqual([
      { url: 'https://a.example/1.wav' },
      { url: 'https://a.example/2.wav', ref: 'r2' },
    ]);
  });

  it('when a line is not an http(s) URL, then it is unparsable and the line is named', () => {
    const err = errorOf(() => parseManifest('https://a.example/1.wav\nftp://b.example/2.wav', 'text/plain', 10));
    expect(err.code).toBe('manifest_unparsable');
    expect(err.message).toBe('manifest line 2: must be an http or https URL');
  });

  it('when JSON is broken or not an array, then it is unparsable', () => {
    expect(errorOf(() => parseManifest('[1,', 'application/json', 10)).message).toBe('the manifest is not valid JSON');
    expect(errorOf(() => parseManifest('{"url":"https://a.example"}', 'application/json', 10)).code).toBe('manifest_unparsable');
    expect(errorOf(() => parseManifest('[{"ref":"x"}]', 'application/json', 10)).message).toMatch(/^manifest item 0/);
  });

  it('when it lists nothing or too much, then it says so', () => {
    expect(errorOf(() => parseManifest('# nothing\n\n', 'text/plain', 10)).code).toBe('manifest_empty');
    expect(errorOf(() => parseManifest('[]', 'application/json', 10)).code).toBe('manifest_empty');
    const three = ['https://a.example/1', 'https://a.example/2', 'https://a.example/3'].join('\n');
    expect(errorOf(() => parseManifest(three, 'text/plain', 2)).code).toBe('manifest_too_many_files');
  });

  it('when a text line has a comment after whitespace, then the URL is kept without it; a space inside a URL is refused naming the line', () => {
    expect(parseManifest('https://a.example/5.wav # trailing comment\nhttps://a.example/6.wav#t=1\n', 'text/plain', 10)).toEqual([
      { url: 'https://a.example/5.wav' },
      { url: 'https://a.example/6.wav#t=1' },
    ]);
    const err = errorOf(() => parseManifest('https://a.example/1.wav\nhttps://a.example/has space.wav\n', 'text/plain', 10));
    expect(err.code).toBe('manifest_unparsable');
    expect(err.message).toMatch(/^manifest line 2: holds whitespace/);
  });

  it('when a JSON entry holds a lone surrogate, then it is unparsable rather than stored where the job scripts cannot read it', () => {
    const err = errorOf(() => parseManifest('[{"url":"https://a.example/1.wav","ref":"a\\ud800"}]', 'application/json', 10));
    expect(err.code).toBe('manifest_unparsable');
    expect(err.message).toMatch(/^manifest item 0: must be well-formed Unicode/);
  });
});
