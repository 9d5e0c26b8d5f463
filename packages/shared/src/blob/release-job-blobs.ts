import type { BlobReferences } from '../store/reuse-index.js';
import type { TranscriptStore } from './transcript-store.js';

/**
 * The blobs of a job Redis no longer has (deleted, or expired): gone, unless later jobs completed
 * files from its transcripts (reuse) and still live, which read them where they are. Those are
 * reference-counted (store/reuse-index.ts BlobReferences); the blob sweeper comes back to a kept
 * job's blobs on every pass and deletes them once its last referrer is gone. Call only once the
 * job's own keys are gone: no referrer can be added after that, so "none left" stays true.
 */
export async function releaseJobBlobs(
  deps: { refs: BlobReferences; transcripts: TranscriptStore },
  jobId: string,
): Promise<{ deleted: number; keptFor: string[] }> {
  const keptFor = await deps.refs.liveReferrers(jobId);
  if (keptFor.length > 0) return { deleted: 0, keptFor };
  const deleted = await deps.transcripts.deleteJob(jobId);
  // Redis drops a set once its last member is removed, so this is only for a set never pruned.
  await deps.refs.forget(jobId);
  return { deleted, keptFor };
}
