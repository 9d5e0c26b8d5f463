import * as tus from 'tus-js-client';

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
