import { BatchStore, GlobalRateLimiter } from '@batchscribe/shared';
import type { WorkerMetrics } from './worker-metrics.js';

/*
 * Decorators that count at the one place every path goes through: whichever pipeline step
 * ends a batch does it with BatchStore.finish, and every 429 back-off is a limiter backOff.
 * The pipeline code stays free of metric calls, and a new path cannot forget to count.
 */

export class MeteredBatchStore extends BatchStore {
  constructor(
    private readonly metrics: WorkerMetrics,
    ...args: ConstructorParameters<typeof BatchStore>
  ) {
    super(...args);
  }

  /** Counts only a finish that moved the batch: a replayed step finds it done and counts nothing. */
  override async finish(...args: Parameters<BatchStore['finish']>): Promise<boolean> {
    const moved = await super.finish(...args);
    const [, , , outcome, files] = args;
    if (moved)
      this.metrics.batchFinished(
        outcome,
        files.map((f) => f.record.s),
      );
    return moved;
  }

  /** Reused files are finished files too, without a finish: counted when the split moved them. */
  override async reuseSplit(...args: Parameters<BatchStore['reuseSplit']>): Promise<Awaited<ReturnType<BatchStore['reuseSplit']>>> {
    const outcome = await super.reuseSplit(...args);
    if (outcome.kind === 'ok') this.metrics.filesReused(args[2].reused.length, outcome.ended);
    return outcome;
  }
}

export class MeteredRateLimiter extends GlobalRateLimiter {
  constructor(
    private readonly metrics: WorkerMetrics,
    ...args: ConstructorParameters<typeof GlobalRateLimiter>
  ) {
    super(...args);
  }

  override async backOff(...args: Parameters<GlobalRateLimiter['backOff']>): Promise<void> {
    await super.backOff(...args);
    this.metrics.backedOff(args[0]);
  }
}
