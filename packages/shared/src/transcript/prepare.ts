import { brotliCompressSync, constants } from 'node:zlib';
import { normalizeTranscription } from './normalize.js';

/*
 * Quality 5 in text mode: an hour-long transcript (~0.8 MB of JSON) goes to ~100 KB. This runs
 * in a worker thread (see transcript-preparer.ts), so the synchronous call is the cheap one.
 */
const BROTLI = { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };

const pack = (bytes: Uint8Array): Uint8Array =>
  brotliCompressSync(bytes, { params: { ...BROTLI, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } });

/** One result document made ready for the blob store, and whether it can be used. */
export interface PreparedTranscript {
  /** brotli of the upstream JSON exactly as received (what `format=raw` serves). */
  raw: Uint8Array;
  /** brotli of batchscribe's normalized transcript JSON (what results embed); null when unusable. */
  normalized: Uint8Array | null;
  /** Why it cannot be used: not JSON at all, or JSON of a shape we cannot read. */
  problem: { kind: 'not_json' | 'unparsable'; message: string } | null;
  /** The audio's duration as upstream reports it, when it does. */
  durationMs: number | null;
}

/**
 * Parses, validates, normalizes and compresses one upstream document. CPU-heavy for an hour of
 * speech (tens of ms of JSON.parse and validation), which is why it runs off the event loop.
 */
export function prepareTranscript(upstream: Uint8Array): PreparedTranscript {
  const raw = pack(upstream);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(upstream.buffer, upstream.byteOffset, upstream.byteLength).toString('utf8'));
  } catch {
    return { raw, normalized: null, problem: { kind: 'not_json', message: 'The transcript is not valid JSON.' }, durationMs: null };
  }
  try {
    const transcript = normalizeTranscription(doc);
    return { raw, normalized: pack(Buffer.from(JSON.stringify(transcript))), problem: null, durationMs: transcript.duration_ms };
  } catch (err) {
    return { raw, normalized: null, problem: { kind: 'unparsable', message: (err as Error).message.slice(0, 500) }, durationMs: null };
  }
}
