import { describe, expect, it } from '@jest/globals';
import { packInputs, unpackHome, unpackInputs, uploadIdsOf } from '../src/store/file-entries.js';
import { toFileResult } from '../src/domain/job.js';

const upload = { id: 'upl_01jc9x3k6m2v8q4r7t5w0y1z2a', filename: 'standup.m4a', sha256: 'ab'.repeat(32) };

describe('packed file inputs of a home batch', () => {
  it('when every input is a URL without a ref, then they pack as the plain URL array older records hold', () => {
    expect(packInputs([{ url: 'https://a/1.wav' }, { url: 'https://a/2.wav' }])).toBe('["https://a/1.wav","https://a/2.wav"]');
  });

  it('when records written before uploads existed are read, then they read as they always did', () => {
    expect(unpackInputs('["https://a/1.wav",{"u":"https://a/2.wav","r":"two"}]')).toEqual([
      { url: 'https://a/1.wav' },
      { url: 'https://a/2.wav', ref: 'two' },
    ]);
  });

  it('when a file comes from an upload, then it packs as {up, fn, h, r?} beside URL entries and reads back the same', () => {
    const inputs = [{ url: 'https://a/1.wav' }, { upload, ref: '2026/standup.m4a' }, { upload }, { url: 'https://a/2.wav', ref: 'x' }];
    const packed = packInputs(inputs);
    expect(JSON.parse(packed)).toEqual([
      'https://a/1.wav',
      { up: upload.id, fn: upload.filename, h: upload.sha256, r: '2026/standup.m4a' },
      { up: upload.id, fn: upload.filename, h: upload.sha256 },
      { u: 'https://a/2.wav', r: 'x' },
    ]);
    expect(unpackInputs(packed)).toEqual(inputs);
    expect(uploadIdsOf(packed)).toEqual([upload.id]);
    expect(uploadIdsOf('["https://a/1.wav"]')).toEqual([]);
  });

  it('when a home batch holds an upload file, then its FileRecord and FileResult carry upload_id and filename and no file_url', () => {
    const f = packInputs([
      { url: 'https://a/1.wav', ref: 'one' },
      { upload, ref: 'r' },
    ]);
    const files = unpackHome(
      2,
      2,
      { f, st: 'cf', err: '{"1":{"code":"media_handoff_failed","message":"m"}}', via: null, task_id: 't1' },
      () => null,
    );
    expect(files).toEqual([
      { index: 4, record: { u: 'https://a/1.wav', r: 'one', b: 2, s: 'completed', t: 't1' } },
      {
        index: 5,
        record: {
          up: upload.id,
          fn: upload.filename,
          h: upload.sha256,
          r: 'r',
          b: 2,
          s: 'failed',
          t: 't1',
          e: { code: 'media_handoff_failed', message: 'm' },
        },
      },
    ]);
    expect(toFileResult(5, files[1]!.record, null)).toMatchObject({
      file_url: null,
      upload_id: upload.id,
      filename: 'standup.m4a',
      ref: 'r',
    });
    expect(toFileResult(4, files[0]!.record, null)).toMatchObject({ file_url: 'https://a/1.wav', upload_id: null, filename: null });
  });
});
