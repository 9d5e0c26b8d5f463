import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * A `multipart/form-data` body (RFC 7578) of a few text fields and one file, streamed: the
 * file's bytes pass through as they are read, never gathered. Its length is known in advance
 * (the file's size plus the parts' headers), so it goes with a Content-Length.
 */
export interface MultipartBody {
  contentType: string;
  length: number;
  body: AsyncIterable<Buffer>;
}

export function multipartFile(opts: {
  fields: Record<string, string>;
  fileField: string;
  filename: string;
  file: Readable;
  size: number;
  fileContentType?: string;
}): MultipartBody {
  const boundary = `----batchscribe${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    Object.entries(opts.fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`)
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(opts.fileField)}"; ${filenameParams(opts.filename)}\r\n` +
      `Content-Type: ${opts.fileContentType ?? 'application/octet-stream'}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { file, size } = opts;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + size + tail.length,
    body: (async function* () {
      yield head;
      let sent = 0;
      for await (const chunk of file) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        sent += bytes.length;
        if (sent > size) throw new Error(`the file has more than the ${size} bytes declared`);
        yield bytes;
      }
      if (sent !== size) throw new Error(`the file ended after ${sent} of ${size} bytes declared`);
      yield tail;
    })(),
  };
}

/** Quotes and line breaks cannot be in a quoted-string of a part header (RFC 7578 §4.2 percent-encodes them). */
function quoted(s: string): string {
  return s.replace(/["\r\n%]/g, (c) => encodeURIComponent(c));
}

/** An ASCII `filename` for every parser, and `filename*` (RFC 5987) with the exact UTF-8 name for those that read it. */
function filenameParams(name: string): string {
  const ascii = quoted(name.replace(/[^\x20-\x7e]/g, '_'));
  return `filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
