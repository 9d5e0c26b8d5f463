import pLimit from 'p-limit';
import { Upload, type DetailedError, type HttpRequest } from 'tus-js-client';
import { HttpError, httpErrorFrom } from '../api/http-error.js';
import { CliError, isCliError } from '../errors.js';
import { baseName } from '../sources/media-names.js';
import { openMediaSource, type MediaFile } from './media-source.js';
import type { UploadUrlStore } from './resume-state.js';

/** One file to upload, with its content fingerprint (mediaFingerprint) and how to name it in messages. */
export interface UploadItem {
  file: MediaFile;
  fingerprint: string;
  /** `meetings/2026/standup.m4a`, `archive.zip: 2026/standup.m4a`. */
  shownAs: string;
}

export interface UploadOutcome {
  uploadId: string;
  /** The offset the upload continued from when it resumed one of an earlier run (its size if that one was complete), else null. */
  resumedFrom: number | null;
}

/** Totals while uploading, for the progress bar. */
export interface UploadTotals {
  files: number;
  filesDone: number;
  bytes: number;
  /** Bytes the server has or is being sent, resumed bytes included. */
  bytesSent: number;
}

export interface UploaderOptions {
  /** `<base URL>/v1/uploads`. */
  endpoint: string;
  token: string;
  /** Named when the server refuses the token. */
  tokenSource: string;
  parallel: number;
  /** Continue uploads an earlier run stored for the same fingerprint. */
  resume: boolean;
  store: UploadUrlStore;
  /** Bytes per PATCH: what a deflated zip entry holds in memory at once, and how much a retried request sends again. */
  chunkSize: number;
  /** Between retries of a failed request (network, 5xx, 409, 423, 429); a longer outage fails the file, and --resume continues it. */
  retryDelays: number[];
  onProgress: (totals: UploadTotals) => void;
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
export const DEFAULT_RETRY_DELAYS = [0, 1_000, 3_000, 5_000, 10_000, 20_000, 30_000];

/**
 * Uploads every item by tus, `parallel` at a time, and returns each one's upload id by
 * fingerprint. Each upload's URL is stored under its fingerprint as soon as it is created, so a
 * run that is stopped (Ctrl-C, kill -9, a lost network) can be continued by `--resume` from the
 * offset the server has. A file the server refuses does not stop the others: they finish (and
 * stay resumable), then one error lists every file that failed. A refused token stops everything
 * at once, since every file would fail the same way.
 */
export async function uploadAll(items: readonly UploadItem[], opts: UploaderOptions): Promise<Map<string, UploadOutcome>> {
  const totals: UploadTotals = { files: items.length, filesDone: 0, bytes: items.reduce((n, i) => n + i.file.size, 0), bytesSent: 0 };
  const sent = new Map<string, number>();
  const report = () => {
    let bytesSent = 0;
    for (const n of sent.values()) bytesSent += n;
    opts.onProgress({ ...totals, bytesSent });
  };
  report();
  const limit = pLimit(Math.max(1, opts.parallel));
  // Each running upload with the way to end its promise: an aborted tus Upload calls no handler again.
  const running = new Map<Upload, (err: Error) => void>();
  const outcomes = new Map<string, UploadOutcome>();
  // By input position, so the error lists them in the order given, whichever failed first.
  const failures: Array<{ at: number; line: string }> = [];
  let fatal: CliError | undefined;
  await Promise.all(
    items.map((item, at) =>
      limit(async () => {
        if (fatal) return;
        try {
          const outcome = await uploadOne(item, opts, running, (bytes) => {
            sent.set(item.fingerprint, bytes);
            report();
          });
          outcomes.set(item.fingerprint, outcome);
          sent.set(item.fingerprint, item.file.size);
          totals.filesDone++;
          report();
        } catch (err) {
          if (fatal) return; // stopped because of another file's refusal
          const error = isCliError(err) ? err : new CliError((err as Error).message);
          if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
            fatal = error;
            limit.clearQueue();
            for (const [upload, stop] of running) {
              void upload.abort();
              stop(error);
            }
            running.clear();
            return;
          }
          failures.push({ at, line: `${item.shownAs}: ${error.message}` });
        }
      }),
    ),
  );
  if (fatal) throw fatal;
  const lines = failures.sort((a, b) => a.at - b.at).map((f) => f.line);
  if (lines.length === 1) throw new CliError(`cannot upload ${lines[0]}; nothing was submitted (run again with --resume to continue)`);
  if (lines.length > 1)
    throw new CliError(
      `${lines.length} files could not be uploaded; nothing was submitted (the others are uploaded: run again with --resume to continue):`,
      undefined,
      false,
      lines,
    );
  return outcomes;
}

function uploadOne(
  item: UploadItem,
  opts: UploaderOptions,
  running: Map<Upload, (err: Error) => void>,
  onBytes: (bytes: number) => void,
): Promise<UploadOutcome> {
  const { file } = item;
  let firstPatchOffset: number | undefined;
  let previousUrl: string | null = null;
  return new Promise<UploadOutcome>((resolve, reject) => {
    // tus-js-client hands `file` back to our fingerprint and fileReader only, so any object will do.
    const upload: Upload = new Upload(file as unknown as Buffer, {
      endpoint: opts.endpoint,
      uploadSize: file.size,
      chunkSize: opts.chunkSize,
      retryDelays: opts.retryDelays,
      metadata: { filename: baseName(file.ref) },
      headers: { authorization: `Bearer ${opts.token}` },
      // The endpoint is part of the fingerprint: the same file sent to another server is another upload.
      fingerprint: () => Promise.resolve(`${opts.endpoint}\0${item.fingerprint}`),
      urlStorage: opts.store,
      storeFingerprintForResuming: true,
      // Kept after success: a run stopped after this file but before the job was created finds
      // this upload complete and reuses its id, so the job's body (and its idempotency key) match.
      removeFingerprintOnSuccess: false,
      fileReader: { openFile: (input: unknown) => Promise.resolve(openMediaSource(input as MediaFile)) },
      onBeforeRequest: (req: HttpRequest) => {
        if (firstPatchOffset === undefined && req.getMethod() === 'PATCH') firstPatchOffset = Number(req.getHeader('Upload-Offset'));
      },
      onProgress: (bytesSent: number) => onBytes(bytesSent),
      onShouldRetry: (err: DetailedError) => isRetryable(statusOf(err)),
      onSuccess: () => {
        running.delete(upload);
        const id = uploadIdFrom(upload.url);
        if (!id) return reject(new CliError(`the server answered no upload URL for ${item.shownAs}`));
        const resumed = previousUrl !== null && upload.url === previousUrl;
        resolve({ uploadId: id, resumedFrom: resumed ? (firstPatchOffset ?? file.size) : null });
      },
      onError: (err: Error | DetailedError) => {
        running.delete(upload);
        void toCliError(err, opts).then(reject, reject);
      },
    });
    running.set(upload, reject);
    const start = async () => {
      if (opts.resume) {
        const [previous] = await upload.findPreviousUploads();
        if (previous?.uploadUrl) {
          previousUrl = previous.uploadUrl;
          upload.resumeFromPreviousUpload(previous);
        }
      }
      upload.start();
    };
    start().catch(reject);
  });
}

function statusOf(err: Error | DetailedError): number {
  return (err as DetailedError).originalResponse?.getStatus() ?? 0;
}

/** No answer (network), a server error, or tus's own "try again" answers: offset mismatch (409), locked (423), busy (429). */
function isRetryable(status: number): boolean {
  return status === 0 || status >= 500 || status === 409 || status === 423 || status === 429;
}

/** The upload's id is the last segment of its URL (`/v1/uploads/upl_…`). */
export function uploadIdFrom(url: string | null): string | undefined {
  if (!url) return undefined;
  const last = new URL(url).pathname.split('/').filter(Boolean).pop();
  return last ? decodeURIComponent(last) : undefined;
}

/** The server's problem as the CLI's error line (`415 unsupported-media-type: …`), or the network failure. */
async function toCliError(err: Error | DetailedError, opts: UploaderOptions): Promise<CliError> {
  const res = (err as DetailedError).originalResponse;
  if (!res) {
    const cause = (err as DetailedError).causingError as (Error & { code?: string }) | null | undefined;
    return new CliError(`no answer from ${opts.endpoint}: ${cause?.code ?? cause?.message ?? err.message}`, undefined, true);
  }
  const headers = new Headers();
  for (const name of ['content-type', 'retry-after', 'x-request-id']) {
    const value = res.getHeader(name);
    if (value) headers.set(name, value);
  }
  return httpErrorFrom(new Response(res.getBody(), { status: res.getStatus(), headers }), {
    401: `check the token from ${opts.tokenSource}`,
  });
}
