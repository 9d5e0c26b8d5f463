import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

const PARAMS = { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };

/**
 * Transcripts are JSON with long repetitive keys; brotli at a middle quality keeps them to a
 * fraction of their size. They are small (~2 KB), so the synchronous call is the cheap one:
 * the async API's per-call stream set-up and thread-pool round trip cost ~7× the compression
 * itself (pnpm bench: ~700 µs against ~105 µs of CPU per transcript), while a 100-file batch
 * holds the event loop for only ~10 ms.
 */
export async function compressJson(value: unknown): Promise<Buffer> {
  return brotliCompressSync(Buffer.from(JSON.stringify(value)), { params: PARAMS });
}

export async function decompressJson(data: Buffer): Promise<unknown> {
  return JSON.parse(brotliDecompressSync(data).toString('utf8'));
}
