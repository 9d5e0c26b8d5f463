import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { assertBlobKey, assertBlobPrefix, assertChildPrefix } from './blob-key.js';
import type { BlobEntry, BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every key, so one bucket can hold several deployments. Default `batchscribe/`. */
  prefix?: string;
  /** An S3-compatible server (MinIO, …); unset: AWS. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** `bucket` in the path instead of the host name, as most S3-compatible servers need. Default false. */
  forcePathStyle?: boolean;
  /** Sockets per protocol kept open to the server. Default 50. */
  maxSockets?: number;
}

/** Parts of a streamed upload: S3's minimum size, two in flight, so one put buffers about 10 MiB. */
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
/** Keys per listed page; also the most one DeleteObjects takes. */
const PAGE_SIZE = 1000;

/**
 * Objects in one bucket under a key prefix. Credentials come from the SDK's default chain
 * (environment, profile, container or instance role), never from our own settings.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? 'batchscribe/';
    const maxSockets = opts.maxSockets ?? 50;
    this.client = new S3Client({
      region: opts.region ?? 'us-east-1',
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle ?? false,
      // Since early 2025 the SDK adds CRC32 checksums to every upload (with aws-chunked bodies for
      // streams) and validates them on every download; MinIO releases, Ceph and other
      // S3-compatible servers that predate that reject or mangle such requests. Checksums only
      // where S3 itself demands one (DeleteObjects) keeps every server working; TLS and the
      // signature already protect the bytes in transit.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      }),
    });
  }

  /**
   * A Buffer goes in one PutObject. A stream goes through `Upload`: one PutObject when it ends
   * within the first part, else a multipart upload that S3 shows only once it completes and
   * that is aborted when the stream or a part fails, so no partial object ever appears.
   */
  async put(key: string, body: Buffer | Readable, opts?: { contentType?: string }): Promise<void> {
    const params = { Bucket: this.bucket, Key: this.objectKey(key), ContentType: opts?.contentType };
    if (Buffer.isBuffer(body)) {
      await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }));
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: body },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    // When the source fails, that is the cause to report, not an abort the server refused after it.
    let sourceError: unknown;
    body.on('error', (err) => (sourceError ??= err));
    try {
      await upload.done();
    } catch (err) {
      throw sourceError ?? err;
    } finally {
      if (!body.destroyed && !body.readableEnded) body.destroy();
    }
  }

  async get(key: string): Promise<Readable | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no Node stream');
      return out.Body;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    // A listed page holds at most 1000 keys, exactly what one DeleteObjects takes.
    for await (const page of this.pages(prefix)) {
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (objects.length === 0) continue;
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(`S3 DeleteObjects failed for ${failed.length} keys, first ${first?.Key}: ${first?.Code} ${first?.Message}`);
      }
      deleted += objects.length;
    }
    return deleted;
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    for await (const page of this.pages(prefix)) {
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
    }
  }

  /** A URL anyone can GET the object with, for `expiresInS` seconds (S3 caps it at 7 days). */
  async *listChildren(prefix: string): AsyncIterable<string> {
    assertChildPrefix(prefix);
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: PAGE_SIZE },
      { Bucket: this.bucket, Prefix: this.prefix + prefix, Delimiter: '/' },
    );
    for await (const page of pages) {
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix) yield p.Prefix.slice(this.prefix.length + prefix.length, -1);
      }
    }
  }

  async presignGet(key: string, expiresInS: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    return getSignedUrl(this.client, command, { expiresIn: expiresInS });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private pages(prefix: string) {
    assertBlobPrefix(prefix);
    return paginateListObjectsV2({ client: this.client, pageSize: PAGE_SIZE }, { Bucket: this.bucket, Prefix: this.prefix + prefix });
  }

  private objectKey(key: string): string {
    assertBlobKey(key);
    return this.prefix + key;
  }
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, $metadata } = err as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  // A missing bucket is a misconfiguration, not a missing object: it must surface.
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}
