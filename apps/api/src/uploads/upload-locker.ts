import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Logger } from 'pino';
import type { UploadStore } from '@batchscribe/shared';
import type { UploadNaming } from './upload-naming.js';

export interface UploadLockerOptions {
  /** How long a held lock lives in Redis without renewal: how soon a dead process's lock frees. Default 10 s. */
  leaseMs?: number;
  /** How long a request waits for the lock before it gives up (409). Default 30 s, as tus's MemoryLocker. */
  acquireTimeoutMs?: number;
  /** Between two attempts. Default 50 ms. */
  retryMs?: number;
}

/**
 * tus's lock on one upload, held in Redis so that api replicas behind one load balancer never
 * write one upload at once (tus's own MemoryLocker covers one process only). A resumed PATCH
 * often arrives while the interrupted one is still draining into the store: inside one process
 * the waiter asks the holder to let go (tus then ends the old request's body after
 * lockDrainTimeout), as MemoryLocker does; across processes it waits, for at most the lease
 * once the holder has died.
 */
export class UploadLocker implements Locker {
  private readonly holders = new Map<string, { token: string; release: RequestRelease }>();
  private readonly leaseMs: number;
  private readonly acquireTimeoutMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly uploads: UploadStore,
    private readonly naming: UploadNaming,
    private readonly logger: Logger,
    opts: UploadLockerOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 10_000;
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 50;
  }

  newLock(storeId: string): Lock {
    const uploadId = this.naming.uploadIdOf(storeId);
    const token = randomUUID();
    let renew: NodeJS.Timeout | undefined;
    return {
      lock: async (signal, requestRelease) => {
        const deadline = Date.now() + this.acquireTimeoutMs;
        for (;;) {
          if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
          if (await this.uploads.tryLock(uploadId, token, this.leaseMs)) break;
          await this.holders.get(uploadId)?.release();
          if (Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
          await sleep(this.retryMs, undefined, { signal }).catch(() => undefined);
        }
        this.holders.set(uploadId, { token, release: requestRelease });
        renew = setInterval(
          () => {
            this.uploads.renewLock(uploadId, token, this.leaseMs).then(
              (held) => {
                if (!held) this.logger.warn({ uploadId }, 'upload lock lost (lease ran out); the write goes on');
              },
              (err: Error) => this.logger.warn({ uploadId, err: err.message }, 'upload lock renewal failed'),
            );
          },
          Math.floor(this.leaseMs / 3),
        );
        renew.unref();
      },
      unlock: async () => {
        clearInterval(renew);
        if (this.holders.get(uploadId)?.token === token) this.holders.delete(uploadId);
        await this.uploads.unlock(uploadId, token);
      },
    };
  }
}
