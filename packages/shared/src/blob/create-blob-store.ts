import type { BlobStore } from './blob-store.js';
import type { BlobStoreEnv } from './config.js';
import { FsBlobStore } from './fs-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The store the parsed environment chooses; the caller owns it and closes it on shutdown. */
export function createBlobStore(env: BlobStoreEnv): BlobStore {
  switch (env.BLOB_STORE) {
    case 'fs':
      return new FsBlobStore(env.DATA_DIR);
    case 's3':
      if (!env.S3_BUCKET) throw new Error('S3_BUCKET is required when BLOB_STORE=s3');
      return new S3BlobStore({
        bucket: env.S3_BUCKET,
        prefix: env.S3_PREFIX,
        ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
        region: env.S3_REGION,
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
      });
  }
}
