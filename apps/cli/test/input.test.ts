import { describe, expect, it } from '@jest/globals';
import { detectFormat, parseSubmitInput } from '../src/input.js';

const A = 'https://media.example.com/a.wav';
const B = 'https://media.example.com/b.wav';

describe('submit input: one URL a line', () => {
  it('when lines have comments, blanks, CRLF and padding, then only the URLs remain, in order', () => {
    const text = `# archive 2026-11\r\n\r\n  ${A}  \r\n# skipped\r\n${B}\r\n`;
    expect(parseSubmitInput(text, 'urls.txt')).toEqual({ files: [{ url: A }, { url: B }], locations: ['line 3', 'line 5'], fields: {} });
  });

  it('when a line is not an http(s) URL, then the error names the file and the line', () => {
    expect(() => parseSubmitInput(`${A}\n\nftp://x/y.wav\n`, 'urls.txt')).toThrow(
      'urls.txt line 3: "ftp://x/y.wav" is not an http or https URL',
    );
  });

  it('when the input holds only comments, then it says no URLs were found', () => {
    expect(() => parseSubmitInput('# nothing\n\n', 'stdin')).toThrow('stdin: no URLs found');
  });

  it('when a URL has a #fragment, then it is kept whole', () => {
    expect(parseSubmitInput(`${A}#t=10\n`, 'urls.txt').files).toEqual([{ url: `${A}#t=10` }]);
  });

  it('when the text starts with a byte-order mark, then it is ignored', () => {
    expect(parseSubmitInput(`\uFEFF${A}\n`, 'stdin').files).toEqual([{ url: A }]);
  });
});

describe('submit input: comments and blanks inside lines', () => {
  it('when # follows whitespace, then the rest of the line is a comment, as in a shell', () => {
    const text = `${A}  # standup\n${B}\t# review, second take\n${A}#t=10 # fragment kept, note dropped\n`;
    expect(parseSubmitInput(text, 'urls.txt').files).toEqual([{ url: A }, { url: B }, { url: `${A}#t=10` }]);
  });

  it('when a URL holds a space, then the error names the line and the position', () => {
    expect(() => parseSubmitInput(`${A}\nhttps://media.example.com/team sync.wav\n`, 'urls.txt')).toThrow(
      'urls.txt line 2: "https://media.example.com/team sync.wav" contains a space at character 31',
    );
  });

  it('when two URLs share a line, then it is an error, not one URL with a space', () => {
    expect(() => parseSubmitInput(`${A} ${B}\n`, 'urls.txt')).toThrow(/^urls\.txt line 1: .* contains a space at character 32$/);
  });

  it('when a URL holds a tab, a control character or a zero-width space, then each is named, escaped', () => {
    const text = `${A}\thttps://x\nhttps://media.example.com/\u0007.wav\nhttps://media.example.com/a\u200b.wav\n`;
    let error: Error | undefined;
    try {
      parseSubmitInput(text, 'urls.txt');
    } catch (err) {
      error = err as Error;
    }
    expect(error).toMatchObject({
      message: 'urls.txt: 3 lines are not valid; nothing was submitted:',
      details: [
        `line 1: "${A}\\thttps://x" contains a tab at character 32`,
        'line 2: "https://media.example.com/\\u0007.wav" contains a control character (U+0007) at character 27',
        'line 3: "https://media.example.com/a\u200b.wav" contains an invisible character (U+200B) at character 28',
      ],
    });
  });

  it('when a CSV cell or a JSON item holds whitespace inside the URL, then that is an error too', () => {
    expect(() => parseSubmitInput(`url,ref\nhttps://x.example.com/a b.wav,r\n`, 'jobs.csv')).toThrow(
      'jobs.csv line 2: "https://x.example.com/a b.wav" contains a space at character 24',
    );
    expect(() => parseSubmitInput(JSON.stringify(['https://x.example.com/a\nb.wav']), 'in.json')).toThrow(
      'in.json: item 0: "https://x.example.com/a\\nb.wav" contains whitespace (U+000A) at character 24',
    );
  });
});

describe('submit input: every bad line at once', () => {
  it('when several lines are bad, then one error lists each with its line number, in order', () => {
    const text = ['# list', A, 'nope', '', 'ftp://x/y.wav', B, 'https://a b', ''].join('\n');
    let error: (Error & { details?: string[] }) | undefined;
    try {
      parseSubmitInput(text, 'urls.txt');
    } catch (err) {
      error = err as Error & { details?: string[] };
    }
    expect(error?.message).toBe('urls.txt: 3 lines are not valid; nothing was submitted:');
    expect(error?.details).toEqual([
      'line 3: "nope" is not an http or https URL',
      'line 5: "ftp://x/y.wav" is not an http or https URL',
      'line 7: "https://a b" contains a space at character 10',
    ]);
  });

  it('when several JSON items are bad, then they are listed as entries', () => {
    expect(() => parseSubmitInput(JSON.stringify(['x', A, 42]), 'in.json')).toThrow(
      'in.json: 2 entries are not valid; nothing was submitted:',
    );
  });
});

describe('submit input: CSV url,ref', () => {
  it('when there is a url,ref header, then refs come from the ref column', () => {
    const text = `url,ref\r\n${A},meeting-1\r\n${B},\r\n`;
    expect(parseSubmitInput(text, 'jobs.csv').files).toEqual([{ url: A, ref: 'meeting-1' }, { url: B }]);
  });

  it('when there is no header, then the first column is the URL and the second the ref', () => {
    expect(parseSubmitInput(`${A},one\n${B},two\n`, 'jobs.csv').files).toEqual([
      { url: A, ref: 'one' },
      { url: B, ref: 'two' },
    ]);
  });

  it('when the header puts ref first, then the columns are found by name', () => {
    expect(parseSubmitInput(`ref,url,extra\nx,${A},ignored\n`, 'jobs.csv').files).toEqual([{ url: A, ref: 'x' }]);
  });

  it('when fields are quoted with commas and quotes inside, then they are read whole', () => {
    const text = `url,ref\n"${A}","Team sync, ""Q4"""\n`;
    expect(parseSubmitInput(text, 'jobs.csv').files).toEqual([{ url: A, ref: 'Team sync, "Q4"' }]);
  });

  it('when lines are comments or blank, then they are skipped and error lines still count from the file', () => {
    const text = `# refs\nurl,ref\n\n${A},a\nnot-a-url,b\n`;
    expect(() => parseSubmitInput(text, 'jobs.csv')).toThrow('jobs.csv line 5: "not-a-url" is not an http or https URL');
  });

  it('when a row has a ref but no URL, then it says the URL is missing', () => {
    expect(() => parseSubmitInput(`url,ref\n,lonely\n`, 'jobs.csv')).toThrow('jobs.csv line 2: missing URL');
  });

  it('when a quote is never closed, then it says the CSV is invalid', () => {
    expect(() => parseSubmitInput(`"${A},x\n`, 'jobs.csv')).toThrow(/^jobs\.csv: invalid CSV: /);
  });
});

describe('submit input: JSON', () => {
  it('when it is an array of URLs, then each is a file', () => {
    expect(parseSubmitInput(JSON.stringify([A, B]), 'in.json')).toEqual({
      files: [{ url: A }, { url: B }],
      locations: ['item 0', 'item 1'],
      fields: {},
    });
  });

  it('when it is an array of {url, ref}, then refs are kept and null refs dropped', () => {
    expect(
      parseSubmitInput(
        JSON.stringify([
          { url: A, ref: 'r1' },
          { url: B, ref: null },
        ]),
        'in.json',
      ).files,
    ).toEqual([{ url: A, ref: 'r1' }, { url: B }]);
  });

  it('when it is a job body with files and other fields, then the fields are kept for the request', () => {
    const body = { files: [{ url: A, ref: 'x' }], model: 'paraformer-8k-v2', metadata: { team: 'ops' } };
    expect(parseSubmitInput(JSON.stringify(body), 'job.json')).toEqual({
      files: [{ url: A, ref: 'x' }],
      locations: ['files[0]'],
      fields: { model: 'paraformer-8k-v2', metadata: { team: 'ops' } },
    });
  });

  it('when it is a job body with file_urls, then those are the files', () => {
    expect(parseSubmitInput(JSON.stringify({ file_urls: [A] }), 'job.json').files).toEqual([{ url: A }]);
  });

  it('when it is not JSON, then it says so', () => {
    expect(() => parseSubmitInput('[1,', 'in.json')).toThrow(/^in\.json: invalid JSON: /);
  });

  it('when an item is neither a URL nor an object with one, then the error names the item', () => {
    expect(() => parseSubmitInput(JSON.stringify([A, 42]), 'in.json')).toThrow(
      'in.json: item 1: must be a URL string or an object with a "url" string',
    );
    expect(() => parseSubmitInput(JSON.stringify({ files: [{ url: 'nope' }] }), 'in.json')).toThrow(
      'in.json: files[0]: "nope" is not an http or https URL',
    );
  });

  it('when a ref is not a string, then it says so', () => {
    expect(() => parseSubmitInput(JSON.stringify([{ url: A, ref: 7 }]), 'in.json')).toThrow('in.json: item 0: "ref" must be a string');
  });

  it('when the object has neither file_urls nor files, then it explains the accepted shapes', () => {
    expect(() => parseSubmitInput('{"urls": []}', 'in.json')).toThrow(/JSON input must be an array of URLs/);
  });

  it('when the array is empty, then it says no URLs were found', () => {
    expect(() => parseSubmitInput('[]', 'in.json')).toThrow('in.json: no URLs found');
  });
});

describe('submit input: format detection', () => {
  it('when the extension is known, then it decides', () => {
    expect(detectFormat(`${A},x`, 'list.txt')).toBe('lines');
    expect(detectFormat(A, 'x.CSV')).toBe('csv');
    expect(detectFormat(A, 'x.json')).toBe('json');
  });

  it('when there is no known extension (stdin), then the content decides', () => {
    expect(detectFormat(`  [${JSON.stringify(A)}]`)).toBe('json');
    expect(detectFormat('{"file_urls": []}', 'stdin')).toBe('json');
    expect(detectFormat(`# c\n${A},ref\n`, 'stdin')).toBe('csv');
    expect(detectFormat('url\nhttps://x/y\n', 'stdin')).toBe('csv');
    expect(detectFormat(`# c\n${A}\n${B}\n`, 'stdin')).toBe('lines');
  });

  it('when a format is forced, then it wins over the content', () => {
    expect(parseSubmitInput(`${A}?a=1,2\n`, 'stdin', 'lines').files).toEqual([{ url: `${A}?a=1,2` }]);
  });
});
