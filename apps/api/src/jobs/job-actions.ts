import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BlobReferences,
  batchQueueJobId,
  enqueueBatches,
  releaseJobBlobs,
  JobStore,
  webhookQueueJobId,
  type BatchJobPayload,
  type JobStoreOptions,
  type KeyLayout,
  type TranscriptStore,
  type UploadStore,
  ConflictError,
  releaseEndedJobUploads,
  jobNotFound,
} from '@batchscribe/shared';

export interface JobActionsDeps {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  batchSize: number;
  retentionS: number;
  /** A deleted job's transcripts go with it. */
  transcripts: TranscriptStore;
  /** The webhooks queue, whose delivery records of a deleted job go with it. */
  webhooks?: Queue;
  /** The job's uploads are released once it has ended (a cancel that settles it, a delete). */
  uploads?: UploadStore;
  /** Chunk sizes and a per-chunk hook, for tests. */
  store?: Pick<JobStoreOptions, 'chunks' | 'afterChunk'>;
}

/** How long delete waits for a batch's last BullMQ step, finishing as the job ended, to let go of its record. */
const RELEASE_WAIT_MS = 5_000;

/**
 * Cancel, retry and delete (chunked steps of the job store), mapped to the API's status codes. A
 * step that found an unreadable record throws the store's JobRecordDamagedError, a domain error
 * the api's handler answers with a 500 naming the record.
 */
export class JobActions {
  private readonly jobs: JobStore;

  constructor(private readonly deps: JobActionsDeps) {
    this.jobs = new JobStore(deps.redis, deps.keys, {
      retentionS: deps.retentionS,
      batchSize: deps.batchSize,
      enqueue: (jobId, batches, priority) => enqueueBatches(deps.queue, jobId, batches, priority),
      ...deps.store,
    });
  }

  async cancel(jobId: string, tenant: string): Promise<void> {
    const word = await this.jobs.cancel(jobId, tenant);
    if (word === 'missing') throw jobNotFound();
    if (word === 'finished') throw new ConflictError('The job has already finished; there is nothing to cancel.');
    // A cancel with no task open ends the job here; the workers' next step on its batches
    // releases too (a crash here loses nothing), but the job may be deleted before that.
    await this.releaseUploads(jobId, tenant);
  }

  /** Sends only the failed files again, in new batches. */
  async retry(jobId: string, tenant: string): Promise<number> {
    const outcome = await this.jobs.retry(jobId, tenant);
    if (outcome.word === 'missing') throw jobNotFound();
    if (outcome.word === 'running') throw new ConflictError('The job has not finished; retry it once it has.');
    if (outcome.word === 'nothing') throw new ConflictError('No file of this job failed; there is nothing to retry.');
    return outcome.batches;
  }

  /**
   * Removes the job's own keys (in chunks), then the queue's records of it: the BullMQ job of
   * each batch and the webhook deliveries of its last ending, so no key naming the job is left.
   */
  async delete(jobId: string, tenant: string): Promise<void> {
    // Before the keys go, while the job's inputs still say which uploads it used. Only a job
    // that has ended releases anything, and one that ended may be deleted: so releasing first
    // is right even when the delete then fails.
    await this.releaseUploads(jobId, tenant);
    const outcome = await this.jobs.delete(jobId, tenant);
    if (outcome.word === 'missing') throw jobNotFound();
    if (outcome.word === 'running') throw new ConflictError('The job is still running; cancel it first, or wait for it to finish.');
    await removeRecords(
      this.deps.queue,
      Array.from({ length: outcome.batches }, (_, b) => batchQueueJobId(jobId, b)),
    );
    const finishedAt = outcome.finishedAt;
    if (this.deps.webhooks && finishedAt) {
      const rounds = Array.from({ length: outcome.webhookRound + 1 }, (_, r) => webhookQueueJobId({ jobId, finishedAt, round: r }));
      await removeRecords(this.deps.webhooks, rounds);
    }
    // After Redis: a crash before this leaves blobs of a job Redis no longer knows, which the
    // workers' blob sweeper deletes; the other order could leave a job without its transcripts.
    // Jobs that reused its transcripts keep them until they are gone too (docs/architecture.md, "Reuse").
    await releaseJobBlobs({ refs: new BlobReferences(this.deps.redis, this.deps.keys), transcripts: this.deps.transcripts }, jobId);
  }

  private async releaseUploads(jobId: string, tenant: string): Promise<void> {
    if (this.deps.uploads) await releaseEndedJobUploads(this.deps.redis, this.deps.keys, this.deps.uploads, jobId, { tenant });
  }
}

/**
 * Queue.remove of each id; one still locked (its last step is completing as the job ended)
 * answers 0 and is tried again until it lets go. Ids the queue never had, or already dropped,
 * need nothing.
 */
async function removeRecords(queue: Queue, ids: readonly string[]): Promise<void> {
  let left = [...ids];
  const deadline = Date.now() + RELEASE_WAIT_MS;
  for (;;) {
    const removed = await Promise.all(left.map((id) => queue.remove(id)));
    const kept = left.filter((_, i) => removed[i] === 0);
    left = (await Promise.all(kept.map(async (id) => ((await queue.getJob(id)) ? id : null)))).filter((id) => id !== null);
    if (left.length === 0 || Date.now() > deadline) return;
    await sleep(50);
  }
}
