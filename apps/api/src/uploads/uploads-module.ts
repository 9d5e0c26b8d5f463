import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Router } from 'express';
import { ERRORS, type DataStore } from '@tus/utils';
import { UploadStore, uploadMediaKey, type BlobStore, type BlobStoreEnv, type KeyLayout } from '@batchscribe/shared';
import { HashingDataStore } from './hashing-datastore.js';
import { createUploadDatastore } from './upload-datastore.js';
import { UploadLocker } from './upload-locker.js';
import { sweepUploads } from './upload-sweeper.js';
import { uploadsRoutes } from './uploads.routes.js';
import { TusGateway } from './tus-gateway.js';
import type { UploadNaming } from './upload-naming.js';

/**
 * What one streaming upload request can hold in the api at once, and so what it costs in the
 * tenant's in-flight byte budget: the stream buffers between the socket and the store (a few
 * 64 KiB chunks), not the request's length, which goes to disk or the bucket as it arrives
 * (bench/upload-memory.ts measures it). A 2 GB PATCH costs the same as a 2 MB one, so one
 * upload cannot lock the job submissions out.
 */
export const UPLOAD_WINDOW_BYTES = 4 * 1024 * 1024;

export interface UploadsModuleDeps {
  env: BlobStoreEnv & { QUEUE_PREFIX: string; UPLOAD_TTL_S: number; UPLOAD_MAX_BYTES: number };
  redis: Redis;
  keys: KeyLayout;
  /** The blob store the upload's objects sit in (the tus store writes them; deletion sweeps leftovers). */
  blobs: BlobStore;
  logger: Logger;
  reserve(tenant: string, bytes: number): () => void;
  now?: () => number;
}

export interface UploadsModule {
  routes: Router;
  uploads: UploadStore;
  /** One sweep of the uploads due for deletion now (the composition root runs it on an interval). */
  sweep(lockMs: number): Promise<{ swept: boolean; deleted: number }>;
}

/** The uploads feature of the api: the tus store of BLOB_STORE, its lock, the routes and the sweeper. */
export function createUploadsModule(deps: UploadsModuleDeps): UploadsModule {
  const now = deps.now ?? Date.now;
  const uploads = new UploadStore(deps.redis, deps.keys);
  const { store, naming } = createUploadDatastore(deps.env);
  const datastore = new HashingDataStore(store, uploads, naming, deps.logger);
  const locker = new UploadLocker(uploads, naming, deps.logger);
  const tus = new TusGateway({ datastore, locker, naming, maxBytes: deps.env.UPLOAD_MAX_BYTES });
  const deleteMedia = mediaRemover(store, naming, deps.blobs, deps.env.QUEUE_PREFIX);

  const routes = uploadsRoutes({
    uploads,
    tus,
    deleteUpload: async (uploadId) => {
      await deleteMedia(uploadId);
      await uploads.forget(uploadId);
    },
    maxBytes: deps.env.UPLOAD_MAX_BYTES,
    ttlMs: deps.env.UPLOAD_TTL_S * 1000,
    reserve: deps.reserve,
    windowBytes: UPLOAD_WINDOW_BYTES,
    now,
  });
  return { routes, uploads, sweep: (lockMs) => sweepUploads({ uploads, deleteMedia, logger: deps.logger, now: now(), lockMs }) };
}

/** The sweeper alone, for a composition root: it needs the store to delete with, not the routes. */
export function createUploadSweeper(
  deps: Omit<UploadsModuleDeps, 'reserve'>,
): (lockMs: number) => Promise<{ swept: boolean; deleted: number }> {
  const now = deps.now ?? Date.now;
  const uploads = new UploadStore(deps.redis, deps.keys);
  const { store, naming } = createUploadDatastore(deps.env);
  const deleteMedia = mediaRemover(store, naming, deps.blobs, deps.env.QUEUE_PREFIX);
  return (lockMs) => sweepUploads({ uploads, deleteMedia, logger: deps.logger, now: now(), lockMs });
}

/** Deletes every object of one upload; its record is the caller's to forget afterwards. */
function mediaRemover(store: DataStore, naming: UploadNaming, blobs: BlobStore, queuePrefix: string) {
  return async (uploadId: string): Promise<void> => {
    try {
      // Through the tus store first: for s3 it also aborts the multipart upload, which no listing shows.
      await store.remove(naming.storeIdOf(uploadId));
    } catch (err) {
      if (err !== ERRORS.FILE_NOT_FOUND && err !== ERRORS.FILE_NO_LONGER_EXISTS) throw err;
    }
    // What the store's remove leaves: the fs store's `.json` when the file was gone, the s3 store's `.part`.
    await blobs.deleteByPrefix(uploadMediaKey(queuePrefix, uploadId));
  };
}
