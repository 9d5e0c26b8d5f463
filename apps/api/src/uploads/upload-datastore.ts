import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { S3Store } from '@tus/s3-store';
import type { DataStore } from '@tus/utils';
import { uploadsBlobPrefix, type BlobStoreEnv } from '@batchscribe/shared';
import { UploadNaming } from './upload-naming.js';

/**
 * S3 parts are cut at 8 MiB (S3's minimum is 5; 10,000 of them reach 80 GB, far past
 * UPLOAD_MAX_BYTES). The S3Store buffers each part in a temporary file, not in memory; at most
 * this many parts are in flight at once across every upload of the process, so the temporary
 * disk an api needs is about 16 × 8 MiB plus one part being cut per running PATCH.
 */
const S3_PART_BYTES = 8 * 1024 * 1024;
const S3_PARTS_IN_FLIGHT = 16;

export interface UploadDatastore {
  store: DataStore;
  naming: UploadNaming;
}

/** The tus store matching BLOB_STORE, its objects at `uploadMediaKey` of the blob store. */
export function createUploadDatastore(env: BlobStoreEnv & { QUEUE_PREFIX: string; UPLOAD_TTL_S: number }): UploadDatastore {
  const expirationPeriodInMilliseconds = env.UPLOAD_TTL_S * 1000;
  const below = uploadsBlobPrefix(env.QUEUE_PREFIX);
  switch (env.BLOB_STORE) {
    case 'fs':
      return {
        store: new FileStore({ directory: join(env.DATA_DIR, ...below.split('/').filter(Boolean)), expirationPeriodInMilliseconds }),
        naming: new UploadNaming(''),
      };
    case 's3': {
      if (!env.S3_BUCKET) throw new Error('S3_BUCKET is required when BLOB_STORE=s3');
      const store = new S3Store({
        partSize: S3_PART_BYTES,
        maxConcurrentPartUploads: S3_PARTS_IN_FLIGHT,
        expirationPeriodInMilliseconds,
        // Expiry is ours (the upload sweeper), not a bucket lifecycle rule on tags.
        useTags: false,
        s3ClientConfig: {
          bucket: env.S3_BUCKET,
          region: env.S3_REGION,
          ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
          forcePathStyle: env.S3_FORCE_PATH_STYLE,
          // As the blob store's own client (s3-blob-store.ts): checksums only where S3 demands them.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        },
      });
      return { store, naming: new UploadNaming(env.S3_PREFIX + below) };
    }
  }
}
