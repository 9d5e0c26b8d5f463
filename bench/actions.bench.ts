import type { Redis } from 'ioredis';
import { createKeyLayout, jobRecordFields, JobStore, writeNewJob, STATUS_LETTERS, type KeyLayout } from '@batchscribe/shared';
import type { BenchRedis } from './lib/bench-redis.js';
import { result, type BenchResult } from './lib/results.js';

/** A job of FILES files in batches of BATCH_SIZE, as the largest job MAX_FILES_PER_JOB allows by default. */
const FILES = 100_000;
const BATCH_SIZE = 100;
const TARGET_MS = 10;
const PREFIX = 'bench-actions';
const TENANT = 'bench';

/**
 * The longest single script of cancel, retry (one failed file among 100,000) and delete of a
 * 100,000-file job, from Redis's own SLOWLOG with every command logged (slowlog-log-slower-than
 * 0): a script blocks every client while it runs, BullMQ's lock renewals included, so no step of
 * a chunked action may take longer than the target. The store runs directly against the bench's
 * Redis (no api): what is measured is the scripts, not HTTP.
 */
export async function actionsBench(redis: BenchRedis): Promise<BenchResult[]> {
  const r = redis.client;
  const keys = createKeyLayout(PREFIX);
  const store = new JobStore(r, keys, { retentionS: 3_600, batchSize: BATCH_SIZE, enqueue: async () => undefined });
  const [, slower] = (await r.config('GET', 'slowlog-log-slower-than')) as [string, string];
  const [, maxLen] = (await r.config('GET', 'slowlog-max-len')) as [string, string];
  await r.config('SET', 'slowlog-log-slower-than', '0');
  await r.config('SET', 'slowlog-max-len', '100000');
  try {
    const cancelJob = await writeJob(r, keys, 'job_bench0000000000000000cancel', 'queued');
    const cancel = await longestScript(r, () => store.cancel(cancelJob, TENANT));
    const retryJob = await writeJob(r, keys, 'job_bench00000000000000000retry', 'finished-one-failed');
    const retry = await longestScript(r, () => store.retry(retryJob, TENANT));
    const del = await longestScript(r, () => store.delete(cancelJob, TENANT));
    const figure = (name: string, m: Measured, what: string) =>
      result(
        name,
        m.longestMs,
        null,
        'ms',
        { valueBelow: TARGET_MS },
        { files: FILES, batchSize: BATCH_SIZE, what, scripts: m.scripts, totalScriptMs: m.totalMs, wallMs: m.wallMs, outcome: m.outcome },
      );
    return [
      figure('cancel-longest-script', cancel, 'cancel of a job whose 1,000 batches are all queued'),
      figure('retry-longest-script', retry, 'retry of a finished job with one failed file among 100,000'),
      figure('delete-longest-script', del, 'delete of the cancelled job'),
    ];
  } finally {
    await r.config('SET', 'slowlog-log-slower-than', slower);
    await r.config('SET', 'slowlog-max-len', maxLen);
    await dropPrefix(r, PREFIX);
  }
}

interface Measured {
  longestMs: number;
  totalMs: number;
  scripts: number;
  wallMs: number;
  outcome: unknown;
}

async function longestScript(r: Redis, run: () => Promise<unknown>): Promise<Measured> {
  await r.slowlog('RESET');
  const t0 = performance.now();
  const outcome = await run();
  const wallMs = performance.now() - t0;
  const entries = (await r.slowlog('GET', -1)) as Array<[number, number, number, string[]]>;
  const scripts = entries.filter((e) => /^(evalsha|eval|fcall)$/i.test(String(e[3][0])));
  const micros = scripts.map((e) => Number(e[2]));
  return {
    longestMs: Math.max(0, ...micros) / 1000,
    totalMs: micros.reduce((a, b) => a + b, 0) / 1000,
    scripts: scripts.length,
    wallMs: Math.round(wallMs),
    outcome,
  };
}

/** Writes a 100,000-file job: all queued, or finished with every file completed but one failed. */
async function writeJob(r: Redis, keys: KeyLayout, id: string, shape: 'queued' | 'finished-one-failed'): Promise<string> {
  const batches = FILES / BATCH_SIZE;
  const record = jobRecordFields({
    id,
    tenant: TENANT,
    model: 'paraformer-v2',
    name: null,
    metadata: null,
    priority: 'bulk',
    callbackUrl: null,
    scheduleId: null,
    options: {},
    createdAt: new Date().toISOString(),
    files: FILES,
    batches,
  });
  const finished = shape === 'finished-one-failed';
  await writeNewJob(r, keys, {
    id,
    tenant: TENANT,
    record,
    files: Array.from({ length: FILES }, (_, index) => ({ url: `https://media.example.com/bench/${index}.wav` })),
    page: BATCH_SIZE,
    createdMs: Date.now(),
  });
  await r.zrem(keys.intakePending, id);
  if (finished) {
    // As the workers leave it: every batch ended, the job settled with one failure.
    const pipe = r.pipeline();
    const failed = FILES / 2;
    for (let b = 0; b < batches; b++) {
      const statuses = Array.from({ length: BATCH_SIZE }, (_, k) => (b * BATCH_SIZE + k === failed ? STATUS_LETTERS.failed : STATUS_LETTERS.completed)).join('');
      pipe.hset(keys.batch(id, b), { state: 'completed', task_id: `task-${b}`, st: statuses });
    }
    const home = Math.floor(failed / BATCH_SIZE);
    pipe.hset(keys.batch(id, home), 'err', JSON.stringify({ [failed % BATCH_SIZE]: { code: 'InvalidFile', message: 'no speech found' } }));
    pipe.hset(keys.job(id), {
      status: 'completed_with_errors',
      finished_at: new Date().toISOString(),
      f_queued: 0,
      f_completed: FILES - 1,
      f_failed: 1,
      b_queued: 0,
      b_completed: batches,
    });
    await pipe.exec();
  }
  return id;
}

async function dropPrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    if (found.length > 0) await r.unlink(...found);
    cursor = next;
  } while (cursor !== '0');
}
