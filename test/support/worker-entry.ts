/** The production worker entry point, as child processes of the tests run it. */
export const WORKER_MAIN = 'apps/worker/src/main.ts';
/** The same worker with the failpoint BATCHSCRIBE_CRASH_AT armed (see crashing-worker.main.ts). */
export const CRASHING_WORKER_MAIN = 'test/support/crashing-worker.main.ts';

/** A worker env that names a failpoint starts the crashing entry point; any other starts the production one. */
export function workerEntryFor(env: Record<string, string | undefined>): string {
  return env.BATCHSCRIBE_CRASH_AT ? CRASHING_WORKER_MAIN : WORKER_MAIN;
}
