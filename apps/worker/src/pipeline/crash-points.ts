import type { BatchRecord } from '@batchscribe/shared';

/**
 * Named places in the batch cycle where the crash tests kill the worker process (a failpoint,
 * as etcd's gofail): set BATCHSCRIBE_CRASH_AT to one of these and the worker SIGKILLs itself
 * the first time it gets there. Unset in production, where `crash` is a no-op.
 */
export const CRASH_POINTS = [
  'before-claim',
  'after-submit-response',
  'after-submit-recorded',
  'after-poll-response',
  'mid-download',
  'after-transcripts-stored',
  'after-batch-finished',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type Crash = (point: CrashPoint) => void;

export const noCrash: Crash = () => undefined;

/**
 * An in-process test's hook at a failpoint: awaited there, so a test can change Redis at that
 * instant (roll a record back, say) instead of killing the process.
 */
export type TestHook = (point: CrashPoint, batch: BatchRecord) => Promise<void>;

export function crashAt(target: CrashPoint | undefined): Crash {
  if (!target) return noCrash;
  return (point) => {
    if (point === target) process.kill(process.pid, 'SIGKILL');
  };
}
