import type { BatchRecord } from '@batchscribe/shared';

/**
 * Named places in the batch cycle where the crash tests kill the worker process (a failpoint,
 * as etcd's gofail). The production entry point never sets one (`crash` is a no-op there); the
 * crash tests start workers through test/support/crashing-worker.main.ts, which reads
 * BATCHSCRIBE_CRASH_AT and hands `crashAt(point)` to the worker, so the worker SIGKILLs itself
 * the first time it gets there.
 */
export const CRASH_POINTS = [
  'during-handoff-upload',
  'after-handoff-upload',
  'before-claim',
  'after-submit-response',
  'after-submit-recorded',
  'after-poll-response',
  'mid-download',
  'after-transcripts-stored',
  'after-batch-finished',
  'after-reuse-split',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type Crash = (point: CrashPoint) => void;

export const noCrash: Crash = () => undefined;

/**
 * An in-process test's hook at a failpoint: awaited there, so a test can change Redis at that
 * instant (roll a record back, say) instead of killing the process.
 */
export type TestHook = (point: CrashPoint, batch: BatchRecord) => Promise<void>;

export function isCrashPoint(value: string | undefined): value is CrashPoint {
  return (CRASH_POINTS as readonly (string | undefined)[]).includes(value);
}

export function crashAt(target: CrashPoint): Crash {
  return (point) => {
    if (point === target) process.kill(process.pid, 'SIGKILL');
  };
}
