import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** One entry of a test zip: bytes or a stream, stored or deflated; a name ending in `/` is a folder. */
export interface ZipSpec {
  name: string;
  data?: Buffer;
  stream?: Readable;
  compress?: boolean;
}

/** Writes a real zip archive with yazl (data descriptors, zip64 when needed, as real tools write them). */
export async function writeZip(path: string, entries: readonly ZipSpec[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith('/')) zip.addEmptyDirectory(e.name);
    else if (e.stream) zip.addReadStream(e.stream, e.name, { compress: e.compress ?? true });
    else zip.addBuffer(e.data ?? Buffer.alloc(0), e.name, { compress: e.compress ?? true });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/**
 * Renames entries in a written zip by patching the bytes (both the local header and the central
 * directory carry the name): yazl refuses to write hostile names such as `../x.m4a`, but an
 * archive from elsewhere can hold them. `from` and `to` must have the same length.
 */
export async function patchZipNames(path: string, from: string, to: string): Promise<void> {
  if (from.length !== to.length) throw new Error('patchZipNames: same length only');
  const bytes = await readFile(path);
  const find = Buffer.from(from);
  let at = bytes.indexOf(find);
  while (at >= 0) {
    Buffer.from(to).copy(bytes, at);
    at = bytes.indexOf(find, at + find.length);
  }
  await writeFile(path, bytes);
}

/** Bytes that do not compress (so stored and deflated entries differ in size only by headers). */
export function noise(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
