import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tus from 'tus-js-client';

/**
 * tus-js-client's own Node stack, with request bodies paced at `bytesPerSecond`: on loopback a
 * whole body is written before the client's first progress event (throttled to 100 ms), so
 * without a pace an abort could never land mid-stream.
 */
function pacedHttpStack(bytesPerSecond: number): tus.HttpStack {
  const inner = new tus.DefaultHttpStack({});
  const slice = 64 * 1024;
  return {
    getName: () => 'paced',
    createRequest(method, url) {
      const req = inner.createRequest(method, url);
      const send = req.send.bind(req);
      req.send = (body?: unknown) => {
        if (!(body instanceof Uint8Array)) return send(body);
        const bytes = body;
        const paced = Readable.from(
          (async function* () {
            for (let at = 0; at < bytes.length; at += slice) {
              yield Buffer.from(bytes.subarray(at, at + slice));
              await sleep((slice / bytesPerSecond) * 1000);
            }
          })(),
        );
        // The stack sets Content-Length from `size`, as it would for the buffer.
        return send(Object.assign(paced, { size: bytes.length }));
      };
      return req;
    },
  };
}

export interface TusRun {
  /** The upload's URL (absolute), once the server created it. */
  url: string;
  /** How the run ended: every byte sent, or aborted by the test. */
  outcome: 'done' | 'aborted';
  /** Bytes the client had sent when it stopped. */
  sent: number;
}

/**
 * One run of the real tus-js-client against the api: a new upload, or a resume of `uploadUrl`
 * (the client asks HEAD for the offset, then PATCHes from there). With `abortAfter` it aborts
 * the upload mid-stream once that many bytes have been sent, as a killed CLI would.
 */
export function runTus(opts: {
  apiUrl: string;
  token: string;
  bytes: Buffer;
  filename: string;
  uploadUrl?: string;
  abortAfter?: number;
  /** Bytes per PATCH; default: the whole rest in one. */
  chunkSize?: number;
  /** Pace of the request bodies; default 40 MB/s (so an abort lands within ~4 MB of its mark). */
  bytesPerSecond?: number;
}): Promise<TusRun> {
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let finished = false;
    const upload = new tus.Upload(opts.bytes, {
      endpoint: `${opts.apiUrl}/v1/uploads`,
      ...(opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : {}),
      headers: { authorization: `Bearer ${opts.token}` },
      metadata: { filename: opts.filename },
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      retryDelays: [],
      httpStack: pacedHttpStack(opts.bytesPerSecond ?? 40_000_000),
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      onUploadUrlAvailable: () => {
        url = upload.url ?? undefined;
      },
      onProgress: (sent) => {
        if (opts.abortAfter !== undefined && sent >= opts.abortAfter && !finished) {
          finished = true;
          void upload.abort(false).then(() => resolve({ url: url ?? upload.url!, outcome: 'aborted', sent }));
        }
      },
      onSuccess: () => {
        if (finished) return;
        finished = true;
        resolve({ url: url ?? upload.url!, outcome: 'done', sent: opts.bytes.length });
      },
      onError: (err) => {
        if (!finished) reject(err);
      },
    });
    upload.start();
  });
}
