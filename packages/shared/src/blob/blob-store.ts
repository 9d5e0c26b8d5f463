import type { Readable } from 'node:stream';

// Not flydrive: its fs driver writes the target in place (a reader or a crash sees half a file) and 2.x needs Node 24.

/**
 * Where transcripts (and uploaded media) live: never in Redis. Keys are relative,
 * slash-separated names such as `jobs/job_01H…/tx/17.br`; an adapter maps them onto a
 * directory or a bucket prefix. Every operation is idempotent, so a replayed step is harmless.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /**
   * Writes the whole object or nothing: a reader never sees half of it, and a crash
   * mid-write leaves at most an invisible temporary (fs) or an aborted multipart upload (s3).
   * Overwrites an existing object of the same key.
   */
  put(key: string, body: Buffer | Readable, opts?: { contentType?: string }): Promise<void>;
  /** The object's bytes as a stream, or null when there is no such object. */
  get(key: string): Promise<Readable | null>;
  /** Size of the object, or null when it does not exist. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes one object; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix`; returns how many went. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Every object whose key starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<BlobEntry>;
  /**
   * The distinct next segments below `prefix` (which ends with `/`): for `jobs/` the job ids
   * that have any object, without walking each job's objects (S3's delimiter listing).
   */
  listChildren(prefix: string): AsyncIterable<string>;
  /**
   * A URL that anyone can GET the object with for `expiresInS` seconds, for handing a file to
   * a service that fetches it. Only stores that can sign one have it (s3).
   */
  presignGet?(key: string, expiresInS: number): Promise<string>;
  /** Releases sockets and handles. */
  close(): Promise<void>;
}

export interface BlobEntry {
  key: string;
  size: number;
  lastModified: Date;
}
