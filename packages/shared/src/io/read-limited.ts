/** A body passed the byte limit its reader was given; the reader stopped there. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';

  constructor(readonly maxBytes: number) {
    super(`the body is larger than ${maxBytes} bytes`);
  }
}

/**
 * The one size-limited body reader: reads a stream whole, counting as it goes, and stops at the
 * first chunk past `maxBytes`, so a sender with no (or a false) Content-Length costs at most that
 * much memory. Leaving the loop early ends the stream (its iterator's `return`).
 */
export async function readLimited(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

export function isBodyTooLarge(err: unknown): err is BodyTooLargeError {
  return err instanceof Error && err.name === 'BodyTooLargeError';
}
