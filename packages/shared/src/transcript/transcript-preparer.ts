import { Piscina } from 'piscina';
import { prepareTranscript, type PreparedTranscript } from './prepare.js';

/** Old-generation heap of one preparing thread. */
export const PREP_THREAD_HEAP_MB = 256;

export interface TranscriptPreparer {
  prepare(upstream: Uint8Array): Promise<PreparedTranscript>;
  close(): Promise<void>;
}

/**
 * Runs prepareTranscript on a pool of worker threads, so parsing and compressing hour-long
 * documents never holds the worker's event loop (lock renewals, polls, heartbeats).
 *
 * Run from sources (tests, `pnpm dev:*`) the thread entry is TypeScript: the threads then load
 * tsx, as the process itself did.
 */
export function createThreadPreparer(threads: number): TranscriptPreparer {
  const fromSources = import.meta.url.endsWith('.ts');
  const pool = new Piscina<Uint8Array, PreparedTranscript>({
    filename: new URL(`./prepare.worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href,
    // All threads stay up: piscina ends a thread above minThreads as soon as it idles, and
    // starting one (loading the module graph, under tsx a compiler too) costs far more than a
    // document, so a pool that shrinks between batches spends its time starting threads.
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    // A thread's heap sized to its work (one document at a time: a 12 h recording parses to
    // ~100 MB), so V8 collects early instead of growing toward its default limit, a quarter of
    // the machine's memory. A document beyond it fails its task, not the worker.
    resourceLimits: { maxOldGenerationSizeMb: PREP_THREAD_HEAP_MB },
    ...(fromSources ? { execArgv: ['--conditions=source', '--import', 'tsx'] } : {}),
  });
  return {
    prepare: (upstream) => pool.run(upstream),
    close: () => pool.destroy(),
  };
}

/** The same work on the calling thread: for tools and tests that measure nothing. */
export const inlinePreparer: TranscriptPreparer = {
  prepare: async (upstream) => prepareTranscript(upstream),
  close: async () => undefined,
};
