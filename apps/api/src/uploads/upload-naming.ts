import { UPLOAD_ID_PATTERN } from '@batchscribe/shared';

/**
 * Public upload ids (`upl_…`, in URLs) and the ids the tus store names its objects by. The
 * store's id is the object's path below the store's own root, so the bytes land at
 * `uploadMediaKey` of the blob store: under DATA_DIR for fs (the FileStore's directory is
 * `<DATA_DIR>/<QUEUE_PREFIX>/uploads`), under the bucket's S3_PREFIX for s3 (the S3Store has no
 * prefix of its own, so it is part of the id).
 */
export class UploadNaming {
  constructor(private readonly storePrefix: string) {}

  storeIdOf(uploadId: string): string {
    return this.storePrefix + uploadId;
  }

  /** The upload id in a store id; throws for one that is not ours (never happens with ids made by storeIdOf). */
  uploadIdOf(storeId: string): string {
    const uploadId = storeId.slice(this.storePrefix.length);
    if (!storeId.startsWith(this.storePrefix) || !UPLOAD_ID_PATTERN.test(uploadId)) throw new Error(`not an upload store id: ${storeId}`);
    return uploadId;
  }

  /** The upload id a URL's last segment names, or undefined when it cannot be one. */
  static parse(segment: string | undefined): string | undefined {
    return segment !== undefined && UPLOAD_ID_PATTERN.test(segment) ? segment : undefined;
  }
}
