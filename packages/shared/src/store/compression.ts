import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants } from 'node:zlib';

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

/**
 * Transcripts are JSON with long repetitive keys; brotli at a middle quality keeps them to a
 * fraction of their size without costing the worker much CPU.
 */
export function compressJson(value: unknown): Promise<Buffer> {
  return compress(Buffer.from(JSON.stringify(value)), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
  });
}

export async function decompressJson(data: Buffer): Promise<unknown> {
  return JSON.parse((await decompress(data)).toString('utf8'));
}
