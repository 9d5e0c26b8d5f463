import { expect } from '@jest/globals';
import { Queue } from 'bullmq';
import { QUEUES, type BatchJobPayload, type FileResult, type Job } from '@batchscribe/shared';
import type { FaultRule, SimStats } from '@batchscribe/foxapi-sim';
import { Stack, countsAddUp, isTerminal, type StackOptions } from './stack.js';

/*
 * What every test of test/integration/upstream-faults/ shares: a stack whose simulator injects
 * the fault, and the checks of the three sides each test looks at — what the user sees (Job,
 * counts, per-file error codes), what foxapi saw (simulator stats), and that nothing is left open.
 */

let stack: Stack | undefined;
const watchers: SimWatch[] = [];

/** Stops the stack `start` made and every SimWatch still sampling; each test file runs it in `afterEach`. */
export async function stopFaultStack(): Promise<void> {
  for (const w of watchers.splice(0)) w.stop();
  await stack?.stop();
  stack = undefined;
}

export async function start(opts: StackOptions & { extraWorkers?: number } = {}): Promise<Stack> {
  const { extraWorkers = 0, ...stackOpts } = opts;
  stack = await Stack.start(stackOpts);
  for (let i = 0; i < extraWorkers; i++) await stack.startWorker();
  return stack;
}

export const faults = (...rules: FaultRule[]): { faults: FaultRule[] } => ({ faults: rules });

/** Answers of one status the simulator gave on `/v1/*` (status 0 = a hang it never answered). */
export const answered = (s: { byStatus: Record<string, number> }, status: number): number => s.byStatus[String(status)] ?? 0;

export async function allResults(s: Stack, jobId: string): Promise<FileResult[]> {
  const out: FileResult[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const res = await s.request<{ data: FileResult[]; next_cursor: string | null }>('GET', `/v1/jobs/${jobId}/results?limit=1000${q}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

export async function getJob(s: Stack, jobId: string): Promise<Job> {
  const res = await s.request<Job>('GET', `/v1/jobs/${jobId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** BullMQ's records of the batch steps (to see attempts and unexpected step errors). */
export async function batchQueueJobs(s: Stack) {
  const connection = s.redis.duplicate();
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection, prefix: s.keys.bullPrefix });
  try {
    return await queue.getJobs(['completed', 'failed', 'delayed', 'wait', 'active', 'prioritized']);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * The state left behind: every job of the tenant terminal with counts that add up, no foxapi
 * task slot still held, and no batch step that threw (a crash, not an upstream answer).
 */
export async function expectNothingLeftOpen(s: Stack): Promise<void> {
  const list = await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100');
  expect(list.status).toBe(200);
  expect(list.body.data.filter((j) => !isTerminal(j)).map((j) => `${j.id} is ${j.status}`)).toEqual([]);
  expect(list.body.data.every(countsAddUp)).toBe(true);
  expect(await s.redis.scard(s.keys.inflight)).toBe(0);
  const crashed = (await batchQueueJobs(s)).filter((j) => j.failedReason).map((j) => `${j.id}: ${j.failedReason}`);
  expect(crashed).toEqual([]);
}

/** Checks `holds` every 50 ms for `ms`, failing at the first moment it does not: an observation window, not a sleep. */
export async function holdsFor(ms: number, holds: () => Promise<string | null> | string | null): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const broken = await holds();
    if (broken !== null) throw new Error(`condition broke inside the ${ms} ms window: ${broken}`);
    if (Date.now() >= until) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Sample {
  t: number;
  requests: number;
  submissions: number;
  polls: number;
  downloads: number;
  byStatus: Record<string, number>;
}

/** A timeline of the simulator's counters, sampled every few ms, to tell when foxapi was called. */
export class SimWatch {
  readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s: Stack,
    everyMs = 5,
  ) {
    this.take();
    this.timer = setInterval(() => this.take(), everyMs);
    watchers.push(this);
  }

  stop(): void {
    clearInterval(this.timer);
    this.take();
  }

  /** Time of the first sample where `pred` holds. */
  firstAt(pred: (x: Sample) => boolean, what: string): number {
    const hit = this.samples.find(pred);
    if (!hit) throw new Error(`the simulator never showed ${what}`);
    return hit.t;
  }

  /** Times at which the count of `status` answers went up, one entry per new answer. */
  answersOf(status: number): number[] {
    const times: number[] = [];
    let prev = 0;
    for (const x of this.samples) {
      const now = answered(x, status);
      for (let k = prev; k < now; k++) times.push(x.t);
      prev = now;
    }
    return times;
  }

  private take(): void {
    const st: SimStats = this.s.sim.stats();
    this.samples.push({
      t: Date.now(),
      requests: st.requests,
      submissions: st.submissions,
      polls: st.polls,
      downloads: st.downloads,
      byStatus: { ...st.byStatus },
    });
  }
}

/** Groups event times into bursts: a gap longer than `gapMs` starts a new one. */
export function bursts(times: number[], gapMs: number): number[][] {
  const out: number[][] = [];
  for (const t of times) {
    const last = out[out.length - 1];
    if (last && t - last[last.length - 1]! <= gapMs) last.push(t);
    else out.push([t]);
  }
  return out;
}

export function expectAllTranscribed(results: FileResult[], files: string[]): void {
  expect(results.map((r) => r.status)).toEqual(files.map(() => 'completed'));
  for (const r of results) {
    expect(r.error).toBeNull();
    expect(r.file_url).toBe(files[r.index]);
    expect(r.transcript?.text).toContain(`This is the recording at ${files[r.index]!.split('/').pop()}`);
  }
}
