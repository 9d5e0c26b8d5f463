import type { Logger } from 'pino';
import type { UploadStore } from '@batchscribe/shared';

/** Uploads looked at per round; a sweep goes round after round until none is due. */
const BATCH = 100;

/**
 * Deletes the uploads whose time has come: unused past UPLOAD_TTL_S (finished or not), or
 * released by the last job whose files needed the media. Each one in three steps, so a crash
 * anywhere leaves it due and the next sweep finishes it: mark it (nothing attaches it from
 * then on), delete its bytes, forget its record. One api process sweeps per interval (a lock in
 * Redis); `now` is injected so tests can move time.
 */
export async function sweepUploads(deps: {
  uploads: UploadStore;
  deleteMedia(uploadId: string): Promise<void>;
  logger: Logger;
  now: number;
  /** How long the sweep lock is held: the interval, so replicas do not repeat each other's sweep. */
  lockMs: number;
  holder?: string;
}): Promise<{ swept: boolean; deleted: number }> {
  const { uploads, logger, now } = deps;
  if (!(await uploads.lockSweep(deps.holder ?? String(process.pid), deps.lockMs))) return { swept: false, deleted: 0 };
  let deleted = 0;
  for (;;) {
    const due = await uploads.due(now, BATCH);
    let progressed = false;
    for (const uploadId of due) {
      const outcome = await uploads.beginDelete(uploadId, now);
      if (outcome === 'not_due') continue;
      progressed = true;
      if (outcome !== 'delete') continue;
      await deps.deleteMedia(uploadId);
      await uploads.forget(uploadId);
      deleted++;
      logger.info({ uploadId }, 'upload deleted: its time was up');
    }
    if (due.length < BATCH || !progressed) break;
  }
  return { swept: true, deleted };
}
