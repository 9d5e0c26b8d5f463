/**
 * A resumable upload of one media file (docs/architecture.md, "Uploads"): its record lives in
 * Redis (packages/shared/src/store/uploads.ts), its bytes in the blob store under
 * `uploadMediaKey`, never in Redis.
 */

/** Extensions foxapi transcribes (docs/upstream.md, "Media formats"); compared without case. */
export const MEDIA_EXTENSIONS = [
  'aac',
  'amr',
  'avi',
  'flac',
  'flv',
  'm4a',
  'mkv',
  'mov',
  'mp3',
  'mp4',
  'mpeg',
  'ogg',
  'opus',
  'wav',
  'webm',
  'wma',
  'wmv',
] as const;

const EXTENSIONS: ReadonlySet<string> = new Set(MEDIA_EXTENSIONS);

/** The filename's extension, lowercased, when foxapi takes it; else null. */
export function mediaExtensionOf(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  if (dot <= 0 || dot === filename.length - 1) return null;
  const ext = filename.slice(dot + 1).toLowerCase();
  return EXTENSIONS.has(ext) ? ext : null;
}

/** Longest filename kept (bytes of UTF-8 are not counted; characters are). */
export const MAX_UPLOAD_FILENAME_LENGTH = 255;

/**
 * The blob key of an upload's bytes, relative to the blob store's root (DATA_DIR or
 * S3_BUCKET/S3_PREFIX). The tus stores add siblings (`.json`, `.info`, `.part`), so everything
 * of one upload starts with this key.
 */
export function uploadMediaKey(queuePrefix: string, uploadId: string): string {
  return `${queuePrefix}/uploads/${uploadId}`;
}

/** The blob prefix under which every upload's objects sit. */
export function uploadsBlobPrefix(queuePrefix: string): string {
  return `${queuePrefix}/uploads/`;
}

export type UploadStatus = 'uploading' | 'ready' | 'expired';

/** What the store keeps of an upload. Times are epoch ms. */
export interface UploadRecord {
  id: string;
  tenant: string;
  filename: string;
  /** Upload-Length: the whole file's bytes. */
  size: number;
  /** Bytes the blob store holds (the tus offset). */
  received: number;
  /** `ready` once every byte is stored and hashed. */
  state: 'uploading' | 'ready';
  /** Hex SHA-256 of the whole file, once ready. */
  sha256: string | null;
  createdAt: number;
  /** When the upload may be deleted if no job uses it by then. */
  expiresAt: number;
  /** Jobs whose files use the media; while any does, the TTL does not apply. */
  jobs: string[];
  /** The sweeper has begun deleting it: nothing may attach it any more. */
  deleting: boolean;
}

/** The status a caller sees at `now`: an unfinished or unused upload past its TTL is expired. */
export function uploadStatusAt(rec: UploadRecord, now: number): UploadStatus {
  if (rec.deleting) return 'expired';
  if (rec.jobs.length === 0 && now >= rec.expiresAt) return 'expired';
  return rec.state;
}

/** The Upload object of `GET /v1/uploads/{id}`. */
export interface UploadView {
  id: string;
  object: 'upload';
  filename: string;
  size: number;
  received: number;
  status: UploadStatus;
  sha256: string | null;
  created_at: string;
  /** When it is deleted unless a job uses it; null while a job does (it then lives as long as the job's files need it). */
  expires_at: string | null;
}

export function uploadView(rec: UploadRecord, now: number): UploadView {
  const status = uploadStatusAt(rec, now);
  return {
    id: rec.id,
    object: 'upload',
    filename: rec.filename,
    size: rec.size,
    received: rec.received,
    status,
    sha256: status === 'ready' ? rec.sha256 : null,
    created_at: new Date(rec.createdAt).toISOString(),
    expires_at: rec.jobs.length > 0 ? null : new Date(rec.expiresAt).toISOString(),
  };
}

/** Why an upload named by a job cannot be used (a 422 naming `files.N.upload_id`: README, "Jobs from uploads"). */
export type UploadRefusal = 'unknown' | 'unfinished' | 'expired' | 'foreign';

export type ResolvedUpload = { id: string; ok: true; upload: UploadRecord } | { id: string; ok: false; reason: UploadRefusal };
