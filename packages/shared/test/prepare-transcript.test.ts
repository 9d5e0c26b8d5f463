import { describe, expect, it } from '@jest/globals';
import { brotliDecompressSync } from 'node:zlib';
import { transcriptionFor } from '@batchscribe/foxapi-sim';
import { prepareTranscript } from '../src/transcript/prepare.js';

const unpack = (b: Uint8Array | null) => (b === null ? null : brotliDecompressSync(b).toString('utf8'));

describe('prepareTranscript', () => {
  it('when the document is a transcription, then raw keeps its bytes and normalized is the transcript with its duration', () => {
    const upstream = Buffer.from(JSON.stringify(transcriptionFor('https://m.example.com/sim-minutes=2.wav')));
    const prepared = prepareTranscript(upstream);
    expect(prepared.problem).toBeNull();
    expect(unpack(prepared.raw)).toBe(upstream.toString('utf8'));
    const transcript = JSON.parse(unpack(prepared.normalized)!) as { duration_ms: number; channels: unknown[] };
    expect(transcript.duration_ms).toBe(120_000);
    expect(prepared.durationMs).toBe(120_000);
    expect(transcript.channels.length).toBeGreaterThan(0);
  });

  it('when the document is not JSON, then it is kept raw and reported not_json', () => {
    const prepared = prepareTranscript(Buffer.from('<html>oops</html>'));
    expect(prepared.problem?.kind).toBe('not_json');
    expect(prepared.normalized).toBeNull();
    expect(unpack(prepared.raw)).toBe('<html>oops</html>');
  });

  it('when the document is JSON of another shape, then it is kept raw and reported unparsable', () => {
    const prepared = prepareTranscript(Buffer.from('{"hello":"world"}'));
    expect(prepared.problem?.kind).toBe('unparsable');
    expect(prepared.normalized).toBeNull();
  });
});
