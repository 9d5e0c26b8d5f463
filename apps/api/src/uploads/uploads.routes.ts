import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { Metadata } from '@tus/utils';
import {
  MAX_UPLOAD_FILENAME_LENGTH,
  MEDIA_EXTENSIONS,
  isWellFormedString,
  mediaExtensionOf,
  newUploadId,
  uploadStatusAt,
  uploadView,
  type UploadRecord,
  type UploadStore,
} from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { ProblemError } from '../http/problem.js';
import { TUS_PATH, type TusGateway } from './tus-gateway.js';
import { UploadNaming } from './upload-naming.js';

export interface UploadsRoutesDeps {
  uploads: UploadStore;
  tus: TusGateway;
  /** Deletes an upload's bytes and record (termination; the sweeper uses the same). */
  deleteUpload(uploadId: string): Promise<void>;
  maxBytes: number;
  ttlMs: number;
  /**
   * Takes room in the tenant's share of the in-flight byte budget (IntakeAdmission.reserve) for
   * a request that streams bytes in; the release gives it back. Throws a 503 problem when full.
   */
  reserve(tenant: string, bytes: number): () => void;
  /** What one streaming request can hold in the api at once (its cost in that budget). */
  windowBytes: number;
  now?: () => number;
}

const TUS_VERSION = '1.0.0';
const OFFSET_TYPE = 'application/offset+octet-stream';

/** The upload the route's `own` (or creation) step found, for the steps after it. */
const uploadOf = (res: Response): UploadRecord => res.locals.upload as UploadRecord;

/**
 * `/v1/uploads` (README, "Uploads"): tus 1.0.0 with creation, creation-with-upload,
 * termination and expiration, plus `GET /v1/uploads/{id}` for the Upload object. Every check
 * that needs the tenant or our limits happens here, before tus sees the request, and answers
 * problem+json; tus then does the protocol.
 */
export function uploadsRoutes(deps: UploadsRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const tus: RequestHandler = (req, res) => deps.tus.handle(req, res);

  const own: RequestHandler = async (req, res, next) => {
    const id = UploadNaming.parse(typeof req.params.id === 'string' ? req.params.id : undefined);
    const rec = id === undefined ? null : await deps.uploads.getForTenant(tenantOf(req), id);
    if (!rec) throw new ProblemError('not-found', `No upload ${String(req.params.id)}.`);
    res.locals.upload = rec;
    next();
  };
  const live: RequestHandler = (_req, res, next) => {
    const rec = uploadOf(res);
    if (uploadStatusAt(rec, now()) === 'expired') throw new ProblemError('not-found', `Upload ${rec.id} has expired.`);
    next();
  };
  const streamsIn: RequestHandler = (req, res, next) => {
    const declared = Number(req.get('content-length') ?? NaN);
    const cost = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, deps.windowBytes) : deps.windowBytes;
    // A creation without a body (most clients) streams nothing in.
    if (req.method === 'POST' && (cost === 0 || !req.is(OFFSET_TYPE))) return next();
    const release = deps.reserve(tenantOf(req), cost);
    res.once('close', release);
    next();
  };

  router.options(TUS_PATH, tus);
  router.post(TUS_PATH, tusResumable, createChecks(deps.maxBytes), streamsIn, async (req, res) => {
    const rec = uploadOf(res);
    await deps.uploads.create(rec);
    req.newUploadId = rec.id;
    res.once('finish', () => {
      // tus refused it, or its body failed: no client knows its URL, so nothing will resume it.
      if (res.statusCode >= 400) void deps.deleteUpload(rec.id).catch(() => undefined);
    });
    await deps.tus.handle(req, res);
  });
  router.head(`${TUS_PATH}/:id`, tusResumable, own, live, tus);
  router.patch(`${TUS_PATH}/:id`, tusResumable, patchChecks, own, live, streamsIn, tus);
  router.delete(`${TUS_PATH}/:id`, tusResumable, own, async (_req, res) => {
    const rec = uploadOf(res);
    if (rec.jobs.length > 0)
      throw new ProblemError('conflict', `Upload ${rec.id} is used by a job; it is deleted once the job's files end.`);
    const outcome = await deps.uploads.beginDelete(rec.id);
    if (outcome === 'in_use')
      throw new ProblemError('conflict', `Upload ${rec.id} is used by a job; it is deleted once the job's files end.`);
    if (outcome === 'gone') throw new ProblemError('not-found', `No upload ${rec.id}.`);
    await deps.deleteUpload(rec.id);
    res.status(204).set('tus-resumable', TUS_VERSION).end();
  });
  router.get(`${TUS_PATH}/:id`, own, (_req, res) => {
    res.json(uploadView(uploadOf(res), now()));
  });

  return router;

  /** Creation: what tus would let through but we do not, answered before any byte is stored. */
  function createChecks(maxBytes: number): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.get('upload-concat') !== undefined)
        throw new ProblemError('malformed-request', 'The concatenation extension is not offered.');
      if (req.get('upload-defer-length') !== undefined || req.get('upload-length') === undefined) {
        throw new ProblemError('malformed-request', 'Send Upload-Length: the size must be known when the upload is created.');
      }
      const lengthHeader = req.get('upload-length')!;
      if (!/^\d{1,16}$/.test(lengthHeader)) throw new ProblemError('malformed-request', 'Upload-Length must be a whole number of bytes.');
      const size = Number(lengthHeader);
      if (size > maxBytes) {
        throw new ProblemError(
          'payload-too-large',
          `Upload-Length is ${size} bytes; the largest upload taken is ${maxBytes} bytes (UPLOAD_MAX_BYTES).`,
        );
      }
      const filename = filenameOf(req.get('upload-metadata'));
      if (size === 0) throw validation('Upload-Length', 'must be at least 1: an empty file has nothing to transcribe');
      if (mediaExtensionOf(filename) === null) {
        throw new ProblemError(
          'unsupported-media-type',
          `${JSON.stringify(filename)} does not end in an extension foxapi transcribes (${MEDIA_EXTENSIONS.join(' ')}, any case).`,
        );
      }
      const at = now();
      res.locals.upload = {
        id: newUploadId(at),
        tenant: tenantOf(req),
        filename,
        size,
        received: 0,
        state: 'uploading',
        sha256: null,
        createdAt: at,
        expiresAt: at + deps.ttlMs,
        jobs: [],
        deleting: false,
      };
      next();
    };
  }
}

/** tus 1.0.0 is the only version offered: any other (or none) is a 412 with Tus-Version, as the protocol says. */
const tusResumable: RequestHandler = (req, _res, next) => {
  const version = req.get('tus-resumable');
  if (version !== TUS_VERSION) {
    throw new ProblemError(
      'precondition-failed',
      version === undefined
        ? `Send Tus-Resumable: ${TUS_VERSION}.`
        : `Tus-Resumable ${version} is not offered; this server speaks ${TUS_VERSION}.`,
      undefined,
      { 'tus-version': TUS_VERSION, 'tus-resumable': TUS_VERSION },
    );
  }
  next();
};

const patchChecks: RequestHandler = (req, _res, next) => {
  if (!req.is(OFFSET_TYPE)) throw new ProblemError('unsupported-media-type', `A PATCH body must be Content-Type: ${OFFSET_TYPE}.`);
  if (!/^\d{1,16}$/.test(req.get('upload-offset') ?? ''))
    throw new ProblemError('malformed-request', 'Upload-Offset must be a whole number of bytes.');
  next();
};

function filenameOf(header: string | undefined): string {
  let metadata: Record<string, string | null> = {};
  if (header !== undefined && header !== '') {
    try {
      metadata = Metadata.parse(header);
    } catch {
      throw new ProblemError('malformed-request', 'Upload-Metadata is not comma-separated `key base64value` pairs.');
    }
  }
  const filename = metadata.filename;
  if (typeof filename !== 'string' || filename.trim() === '') {
    throw validation('Upload-Metadata.filename', 'is required: the file name (base64), whose extension says what the media is');
  }
  if (filename.length > MAX_UPLOAD_FILENAME_LENGTH)
    throw validation('Upload-Metadata.filename', `must be at most ${MAX_UPLOAD_FILENAME_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(filename) || !isWellFormedString(filename)) {
    throw validation('Upload-Metadata.filename', 'must be well-formed text without control characters');
  }
  return filename;
}

function validation(path: string, message: string): ProblemError {
  return new ProblemError('validation-error', `${path} ${message}.`, [{ path, message }]);
}
