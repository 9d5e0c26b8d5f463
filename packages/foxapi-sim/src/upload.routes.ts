import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { isHttpUrl } from './config.js';
import { sendError } from './errors.js';
import { linkBaseUrl } from './link-base.js';
import type { SimRuntime } from './runtime.js';
import { unixSeconds } from './task-views.js';
import type { ReceivedBytes, StoredUpload } from './uploads.js';

/*
 * foxapi's file uploads: multipart, base64 and by URL, each answering {id, filename, url, size,
 * created}. Guesses where foxapi says nothing: `created` is Unix seconds like a task's, ids
 * look like `file-<hex>`, a full store answers 403 with type `storage_full`, a base64 body may
 * be up to 64 MB of JSON, and a URL that cannot be fetched is a 422.
 */

const BASE64_BODY_LIMIT = '64mb';
const URL_FETCH_TIMEOUT_MS = 30_000;
const DEFAULT_FILENAME = 'upload';

export function uploadRoutes(runtime: SimRuntime): Router {
  const router = express.Router();
  router.post('/v1/files/upload/stream', streamUpload(runtime));
  router.post('/v1/files/upload/base64', express.json({ limit: BASE64_BODY_LIMIT }), base64Upload(runtime));
  router.post('/v1/files/upload/url', express.json({ limit: '1mb' }), urlUpload(runtime));
  router.get('/uploads/:id/:name', serveUpload(runtime));
  return router;
}

function streamUpload(runtime: SimRuntime): RequestHandler {
  return async (req, res) => {
    if (!req.is('multipart/form-data')) {
      sendError(res, 400, 'invalid_request_error', 'Content-Type must be multipart/form-data.');
      return;
    }
    let parsed: MultipartUpload;
    try {
      parsed = await readMultipart(runtime, req);
    } catch (err) {
      sendError(res, 400, 'invalid_request_error', `The multipart body could not be read: ${(err as Error).message}`);
      return;
    }
    const { fields, file } = parsed;
    if (file === undefined) {
      sendError(res, 422, 'invalid_request_error', 'file: is required');
      return;
    }
    const autoCleanup = autoCleanupOf(fields.auto_cleanup);
    if (autoCleanup === undefined) {
      await runtime.uploads.discard(file.received);
      sendAutoCleanupError(res);
      return;
    }
    await store(runtime, req, res, file.received, filenameOf(fields.file_name, file.filename), autoCleanup);
  };
}

function base64Upload(runtime: SimRuntime): RequestHandler {
  return async (req, res) => {
    const body = jsonObject(req, res);
    if (body === undefined) return;
    const data = typeof body.file_data === 'string' ? decodeBase64(body.file_data) : undefined;
    if (data === undefined) {
      sendError(res, 422, 'invalid_request_error', 'file_data: is required and must be base64 (optionally a data: URL)');
      return;
    }
    const autoCleanup = autoCleanupOf(body.auto_cleanup);
    if (autoCleanup === undefined) {
      sendAutoCleanupError(res);
      return;
    }
    const received = await runtime.uploads.receiveBuffer(data);
    await store(runtime, req, res, received, filenameOf(body.file_name), autoCleanup);
  };
}

function urlUpload(runtime: SimRuntime): RequestHandler {
  return async (req, res) => {
    const body = jsonObject(req, res);
    if (body === undefined) return;
    const source = body.url;
    if (typeof source !== 'string' || !isHttpUrl(source)) {
      sendError(res, 422, 'invalid_request_error', 'url: is required and must be an http(s) URL');
      return;
    }
    const autoCleanup = autoCleanupOf(body.auto_cleanup);
    if (autoCleanup === undefined) {
      sendAutoCleanupError(res);
      return;
    }
    let received: ReceivedBytes;
    try {
      const answer = await fetch(source, { signal: AbortSignal.timeout(URL_FETCH_TIMEOUT_MS) });
      if (!answer.ok || answer.body === null) {
        await answer.body?.cancel();
        sendError(res, 422, 'invalid_request_error', `url: could not be downloaded (HTTP ${answer.status})`);
        return;
      }
      received = await runtime.uploads.receive(Readable.fromWeb(answer.body), runtime.config.uploadCapacityBytes);
    } catch (err) {
      sendError(res, 422, 'invalid_request_error', `url: could not be downloaded (${(err as Error).message})`);
      return;
    }
    const fromPath = decodeSegment(new URL(source).pathname.split('/').filter(Boolean).at(-1));
    await store(runtime, req, res, received, filenameOf(body.file_name, fromPath), autoCleanup);
  };
}

/** The file behind an upload's `url`; public like a CDN link, gone once expired. */
function serveUpload(runtime: SimRuntime): RequestHandler<{ id: string; name: string }> {
  return (req, res, next) => {
    const upload = runtime.uploads.get(req.params.id);
    if (upload === undefined || upload.filename !== req.params.name) {
      sendError(res, 404, 'not_found', 'File not found.');
      return;
    }
    res.type(extname(upload.filename) || 'application/octet-stream');
    // sendFile answers Range requests with 206, which media fetchers use to read a file's start.
    res.sendFile(upload.path, { lastModified: false, etag: false, cacheControl: false }, (err) => {
      if (err !== undefined && !res.headersSent) next(err);
    });
  };
}

async function store(
  runtime: SimRuntime,
  req: Request,
  res: Response,
  received: ReceivedBytes,
  filename: string,
  autoCleanup: boolean,
): Promise<void> {
  const result = await runtime.uploads.commit(received, filename, runtime.config.uploadCapacityBytes, autoCleanup);
  if (!result.ok) {
    sendError(res, 403, 'storage_full', 'Storage is full. Delete files or upload with auto_cleanup=true.');
    return;
  }
  runtime.stats.uploadStored();
  res.json(uploadView(result.upload, linkBaseUrl(runtime, req)));
}

export function uploadView(upload: StoredUpload, baseUrl: string): Record<string, unknown> {
  return {
    id: upload.id,
    filename: upload.filename,
    url: `${baseUrl}/uploads/${upload.id}/${encodeURIComponent(upload.filename)}`,
    size: upload.size,
    created: unixSeconds(upload.createdAt),
  };
}

interface MultipartUpload {
  fields: Record<string, string>;
  file: { received: ReceivedBytes; filename: string | undefined } | undefined;
}

/** Streams the `file` part to disk (at most the store's capacity); other parts are fields. */
function readMultipart(runtime: SimRuntime, req: Request): Promise<MultipartUpload> {
  return new Promise((resolve, reject) => {
    const parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024 } });
    const fields: Record<string, string> = {};
    let file: Promise<MultipartUpload['file']> = Promise.resolve(undefined);
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.on('error', () => undefined);
        stream.resume();
        return;
      }
      file = runtime.uploads
        .receive(stream, runtime.config.uploadCapacityBytes)
        .then((received) => ({ received, filename: info.filename }));
      // Seen by the awaiting chain below; this keeps an early failure from going unhandled.
      file.catch(() => undefined);
    });
    const fail = (err: unknown): void => {
      // A file already on disk belongs to no upload once the request fails.
      void file.then((f) => (f === undefined ? undefined : runtime.uploads.discard(f.received))).catch(() => undefined);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    parser.on('error', fail);
    parser.once('close', () => {
      file.then((received) => resolve({ fields, file: received }), reject);
    });
    req.once('error', fail);
    req.pipe(parser);
  });
}

function jsonObject(req: Request, res: Response): Record<string, unknown> | undefined {
  if (!req.is('application/json')) {
    sendError(res, 400, 'invalid_request_error', 'Content-Type must be application/json.');
    return undefined;
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    sendError(res, 422, 'invalid_request_error', 'The request body must be a JSON object.');
    return undefined;
  }
  return body as Record<string, unknown>;
}

/** `auto_cleanup` defaults to true; multipart fields arrive as text. Undefined = not a boolean. */
function autoCleanupOf(value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return true;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

function sendAutoCleanupError(res: Response): void {
  sendError(res, 422, 'invalid_request_error', 'auto_cleanup: must be true or false');
}

function filenameOf(...candidates: unknown[]): string {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const name = basename(candidate.trim());
    if (name !== '' && name !== '.' && name !== '..') return name;
  }
  return DEFAULT_FILENAME;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(value: string): Buffer | undefined {
  const payload = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (payload === '' || !BASE64.test(payload)) return undefined;
  return Buffer.from(payload, 'base64');
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
