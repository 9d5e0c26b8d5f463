import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import {
  BATCH_JOB_OPTIONS,
  QUEUES,
  batchPriority,
  batchQueueJobId,
  createKeyLayout,
  fanOutBatches,
  type BatchJobPayload,
} from '@batchscribe/shared';
import { BENCH_TOKEN, LEAN_API_ENV, benchUrls, startApi } from './lib/bench-stack.js';
import { commandCalls, commandDelta, dropPrefix, type BenchRedis } from './lib/bench-redis.js';
import { MB, median } from './lib/figures.js';
import { result, type BenchResult } from './lib/results.js';
import type { MemorySample } from './lib/service-process.js';

const FILES = 100_000;
const BATCHES = FILES / 100;
const REPS = 11;
const WARM_UPS = 3;
const PREFIX = 'bench-intake';

interface Timed {
  ms: number;
  /** After the 202: the fan-out job's work (what a worker does next), until every batch is queued. */
  fanOutMs?: number;
  commands: number;
  byCommand: Record<string, number>;
  peakRss?: number;
}

/** The floor: BullMQ's own addBulk of the 1,000 batch jobs the api enqueues for such a job. */
async function addBulkOnce(redis: BenchRedis, rep: number): Promise<Timed> {
  const prefix = `bench-addbulk-${rep}`;
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis.client, prefix: `{${prefix}}` });
  await queue.waitUntilReady();
  const jobId = `job_baseline${String(rep).padStart(22, '0')}`;
  const jobs = Array.from({ length: BATCHES }, (_, batch) => ({
    name: 'batch',
    data: { jobId, batch },
    opts: { ...BATCH_JOB_OPTIONS, jobId: batchQueueJobId(jobId, batch), priority: batchPriority('bulk', batch) },
  }));
  const before = await commandCalls(redis.client);
  const t0 = performance.now();
  await queue.addBulk(jobs);
  const ms = performance.now() - t0;
  const delta = commandDelta(before, await commandCalls(redis.client));
  await queue.close();
  await dropPrefix(redis.client, prefix);
  return { ms, commands: delta.total, byCommand: delta.byCommand };
}

/** Until the job has left the intake pending set: its batches are all enqueued (before or after the 202). */
async function intakeSettled(redis: BenchRedis, jobId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await redis.client.zscore(`{${PREFIX}}:intake:pending`, jobId)) !== null) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} still pending intake after 30 s`);
    await sleep(10);
  }
}

async function postJob(apiUrl: string, body: string | Buffer, contentType: string): Promise<{ ms: number; status: number; jobId: string }> {
  const t0 = performance.now();
  const res = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': contentType },
    body,
  });
  const ms = performance.now() - t0;
  const job = (await res.json()) as { id?: string };
  if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${JSON.stringify(job).slice(0, 500)}`);
  return { ms, status: res.status, jobId: job.id ?? '' };
}

/**
 * Benchmark 1. Time to 202 for a 100,000-URL job (JSON, then text/plain) against addBulk of
 * the same 1,000 batch payloads, same Redis, interleaved, median of REPS; the api's peak RSS
 * (VmHWM of a fresh process that does nothing else); Redis commands per batch.
 */
export async function intakeBench(redis: BenchRedis): Promise<BenchResult[]> {
  const urls = benchUrls(FILES, 'intake');
  const bodies = {
    // As bytes, as a client sending a file has them: the request measures the api, not the
    // bench's own encoding of a 7 MB string on every send.
    json: { body: Buffer.from(JSON.stringify({ file_urls: urls })), type: 'application/json' },
    text: { body: Buffer.from(urls.join('\n')), type: 'text/plain' },
  };
  const api = await startApi(redis.url, PREFIX, 'api-intake');
  const idle = api.proc.memory();
  const runs: Record<'baseline' | 'json' | 'text', Timed[]> = { baseline: [], json: [], text: [] };
  // The fan-out job a worker would run, run here so no worker's submits mix into the figures.
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis.client, prefix: `{${PREFIX}}` });
  const fanOut = async (jobId: string): Promise<number> => {
    const t0 = performance.now();
    await fanOutBatches({ redis: redis.client, keys: createKeyLayout(PREFIX), queue }, jobId);
    return performance.now() - t0;
  };
  let peak: MemorySample | null = null;
  try {
    // Warm-up, not counted: connections, script loading, JIT, and V8 growing its young
    // generation, which takes a few requests of the size measured.
    for (let warm = 0; warm < WARM_UPS; warm++) {
      await addBulkOnce(redis, 99);
      for (const kind of ['json', 'text'] as const) await fanOut((await postJob(api.url, bodies[kind].body, bodies[kind].type)).jobId);
      await dropPrefix(redis.client, PREFIX);
    }

    for (let rep = 0; rep < REPS; rep++) {
      runs.baseline.push(await addBulkOnce(redis, rep));
      for (const kind of ['json', 'text'] as const) {
        const before = await commandCalls(redis.client);
        const sampler = api.proc.sampleRss(10);
        const posted = await postJob(api.url, bodies[kind].body, bodies[kind].type);
        const fanOutMs = await fanOut(posted.jobId);
        await intakeSettled(redis, posted.jobId);
        const peakRss = Math.max(0, ...sampler.stop());
        const delta = commandDelta(before, await commandCalls(redis.client));
        runs[kind].push({ ms: posted.ms, fanOutMs, commands: delta.total, byCommand: delta.byCommand, peakRss });
        await dropPrefix(redis.client, PREFIX);
      }
    }
  } finally {
    peak = api.proc.memory();
    await queue.close();
    await api.proc.stop();
    await dropPrefix(redis.client, PREFIX);
  }

  const lean = await leanIntake(redis, bodies);
  const base = median(runs.baseline.map((r) => r.ms));
  const perBatch = (r: Timed[]) => median(r.map((x) => x.commands)) / BATCHES;
  const common = { files: FILES, batches: BATCHES, repetitions: REPS, baselineMsEach: runs.baseline.map((r) => Math.round(r.ms)) };
  return [
    ...(['json', 'text'] as const).map((kind) =>
      result(
        `intake-${kind}`,
        median(runs[kind].map((r) => r.ms)),
        base,
        'ms',
        { ratioAtMost: 1.5 },
        {
          ...common,
          how: 'POST until the 202 (the job and its batch records written, one fan-out job queued), median, against addBulk of the same 1,000 batches in the same run',
          msEach: runs[kind].map((r) => Math.round(r.ms)),
          fanOutMsEach: runs[kind].map((r) => Math.round(r.fanOutMs ?? 0)),
          bodyBytes: bodies[kind].body.length,
        },
      ),
    ),
    result(
      'intake-api-peak-rss',
      (peak?.peak ?? Number.NaN) / MB,
      null,
      'MB',
      { valueAtMost: 300 },
      {
        how: `VmHWM of a fresh api process after ${WARM_UPS} warm-ups of each kind and ${REPS} JSON + ${REPS} text/plain 100,000-URL intakes`,
        idleRssMB: Math.round((idle?.rss ?? 0) / MB),
        sampledPeakJsonMB: Math.round(Math.max(...runs.json.map((r) => r.peakRss ?? 0)) / MB),
        sampledPeakTextMB: Math.round(Math.max(...runs.text.map((r) => r.peakRss ?? 0)) / MB),
        sampledPeakMBEach: {
          json: runs.json.map((r) => Math.round((r.peakRss ?? 0) / MB)),
          text: runs.text.map((r) => Math.round((r.peakRss ?? 0) / MB)),
        },
      },
    ),
    result('intake-api-peak-rss-lean', lean.peak / MB, null, 'MB', null, {
      how: 'VmHWM of a fresh api process in the lean profile after 1 warm-up and 2 JSON + 2 text/plain 100,000-URL intakes',
      env: LEAN_API_ENV,
    }),
    result('intake-lean-burst-peak-rss', lean.burstPeak / MB, null, 'MB', null, {
      how: `the lean api's VmHWM after ${BURST} more 100,000-URL JSON submissions sent at once`,
      statuses: lean.burstStatuses,
      accepted: lean.burstStatuses.filter((s) => s === 202).length,
      refusedWith503: lean.burstStatuses.filter((s) => s === 503).length,
      apiSurvived: lean.survived,
    }),
    result('intake-redis-commands-per-batch', perBatch(runs.json), perBatch(runs.baseline), 'commands', null, {
      how: 'INFO commandstats delta (commands run inside scripts included) from the POST until the job left the intake pending set, ÷ 1,000 batches; baseline: addBulk alone',
      jsonByCommand: runs.json[0]?.byCommand,
      textPerBatch: perBatch(runs.text),
      baselineByCommand: runs.baseline[0]?.byCommand,
    }),
  ];
}

const BURST = 8;

interface LeanFigures {
  /** VmHWM after the sequential intakes. */
  peak: number;
  /** VmHWM after BURST more sent at once, and what they were answered. */
  burstPeak: number;
  burstStatuses: number[];
  survived: boolean;
}

/**
 * The same intakes by an api in the README's lean profile (reported, no target), then a burst
 * of BURST 100,000-URL submissions at once: the intake budget must turn the excess away with
 * 503 and the process must live through it inside its 256 MB heap.
 */
async function leanIntake(redis: BenchRedis, bodies: Record<'json' | 'text', { body: Buffer; type: string }>): Promise<LeanFigures> {
  const api = await startApi(redis.url, PREFIX, 'api-intake-lean', LEAN_API_ENV);
  try {
    await postJob(api.url, JSON.stringify({ file_urls: benchUrls(1_000, 'intake') }), 'application/json');
    for (let rep = 0; rep < 2; rep++) {
      for (const kind of ['json', 'text'] as const) {
        // Its fan-out job is dropped with the prefix: this run measures the api's memory only.
        await postJob(api.url, bodies[kind].body, bodies[kind].type);
        await dropPrefix(redis.client, PREFIX);
      }
    }
    const peak = api.proc.memory()?.peak ?? Number.NaN;
    const burstStatuses = await Promise.all(
      Array.from({ length: BURST }, () =>
        fetch(`${api.url}/v1/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': bodies.json.type },
          body: bodies.json.body,
        }).then(
          async (res) => (await res.arrayBuffer(), res.status),
          () => 0,
        ),
      ),
    );
    const survived = api.proc.alive;
    if (!survived) throw new Error(`the lean api died during a burst of ${BURST} intakes (answers: ${burstStatuses.join(', ')})`);
    return { peak, burstPeak: api.proc.memory()?.peak ?? Number.NaN, burstStatuses, survived };
  } finally {
    await api.proc.stop();
    await dropPrefix(redis.client, PREFIX);
  }
}
