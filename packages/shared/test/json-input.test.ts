import { describe, expect, it } from '@jest/globals';
import { jsonByteLength, jsonDepth, jsonInputProblems, wellFormedJson } from '../src/domain/json-input.js';

const deepText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('jsonByteLength', () => {
  it.each([
    [{}],
    [[]],
    [{ a: 1, b: [true, false, null, 'x'], c: { 'ké y': 'é😀\n"' } }],
    [[1.5, -0, 1e21, 'a\u0000b', [[], {}]]],
    ['\ud800'],
  ])('when given %j, then it counts the UTF-8 bytes of JSON.stringify', (value) => {
    expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });

  it('when a value nests 100,000 levels, then it counts without overflowing the stack', () => {
    const value = JSON.parse(deepText(100_000)) as unknown;
    expect(jsonByteLength(value)).toBe(deepText(100_000).length);
    expect(jsonDepth(value, 32)).toBe(33);
  });
});

describe('jsonInputProblems', () => {
  it('when a body is deep, holds lone surrogates, non-finite numbers or __proto__ keys, then each is named by its path', () => {
    const body = JSON.parse(
      `{"name":"\\ud800","metadata":{"n":1e999,"__proto__":{"x":1},"deep":${deepText(50)}},"list":["ok","\\udc00"],"k\\ud800":1}`,
    ) as unknown;
    expect(jsonInputProblems(body, { maxDepth: 10 })).toEqual([
      // Keys are checked as their object is opened, before its values.
      { path: 'k\ufffd', message: 'has a key that is not well-formed Unicode' },
      { path: 'name', message: expect.stringContaining('well-formed') },
      { path: 'metadata.__proto__', message: 'is a reserved key name' },
      { path: 'metadata.n', message: 'is a number out of range' },
      { path: 'metadata.deep.a.a.a.a.a.a.a.a', message: 'nests deeper than 10 levels' },
      { path: 'list.1', message: expect.stringContaining('well-formed') },
    ]);
  });

  it('when the body is fine, including emoji (surrogate pairs), then there is nothing to report', () => {
    expect(jsonInputProblems({ name: '😀', metadata: { a: [1, 2, { b: 'ü' }] } })).toEqual([]);
  });
});

describe('wellFormedJson', () => {
  it('when a string holds a lone surrogate, then it is written as U+FFFD and pairs are kept', () => {
    expect(JSON.parse(wellFormedJson({ e: { message: 'a\ud800b 😀' } }))).toEqual({ e: { message: 'a\ufffdb 😀' } });
  });
});
