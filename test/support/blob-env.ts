import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The environment variables that point an api or worker at a fresh, empty blob store of
 * `kind`: a new temporary DATA_DIR, or a unique S3_PREFIX in the test S3 server's bucket
 * (which the jest global setup provides as TEST_S3_ENDPOINT / TEST_S3_BUCKET).
 */
export function blobEnvFor(kind: 'fs' | 's3'): Record<string, string> {
  if (kind === 'fs') {
    return { BLOB_STORE: 'fs', DATA_DIR: mkdtempSync(join(tmpdir(), 'batchscribe-blobs-')) };
  }
  const endpoint = process.env.TEST_S3_ENDPOINT;
  const bucket = process.env.TEST_S3_BUCKET;
  if (!endpoint || !bucket) throw new Error('TEST_S3_ENDPOINT and TEST_S3_BUCKET are unset: run under the jest global setup');
  return {
    BLOB_STORE: 's3',
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_PREFIX: `test-${randomUUID()}/`,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * Removes what blobEnvFor made on disk (the fs DATA_DIR). An s3 prefix is left: it is unique,
 * and the test server's data goes when the run ends.
 */
export function removeBlobEnv(env: Record<string, string | undefined>): void {
  if (env.BLOB_STORE === 'fs' && env.DATA_DIR) rmSync(env.DATA_DIR, { recursive: true, force: true });
}
