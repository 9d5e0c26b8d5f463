import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { QUEUES, batchQueueJobId, type BatchJobPayload, type FileResult, type Job } from '@batchscribe/shared';
import type { FaultRule, SimStats } from '@batchscribe/foxapi-sim';
import { Stack, countsAddUp, isTerminal, urls, type StackOptions } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/*
 * foxapi misbehaving, end to end: the simulator injects the fault, the real api and worker(s)
 * run over real Redis, and every test checks three sides — what the user sees (Job, counts,
 * per-file error codes), what foxapi saw (simulator stats), and that nothing is left open.
 * Decisions 3 and 4 of foxapi.md are the contract.
 */

let stack: Stack | undefined;
const watchers: SimWatch[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) w.stop();
  await stack?.stop();
  stack = undefined;
});

async function start(opts: StackOptions & { extraWorkers?: number } = {}): Promise<Stack> {
  const { extraWorkers = 0, ...stackOpts } = opts;
  stack = await Stack.start(stackOpts);
  for (let i = 0; i < extraWorkers; i++) await stack.startWorker();
  return stack;
}

const faults = (...rules: FaultRule[]): { faults: FaultRule[] } => ({ faults: rules });

/** Answers of one status the simulator gave on `/v1/*` (status 0 = a hang it never answered). */
const answered = (s: { byStatus: Record<string, number> }, status: number): number => s.byStatus[String(status)] ?? 0;

async function allResults(s: Stack, jobId: string): Promise<FileResult[]> {
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

async function getJob(s: Stack, jobId: string): Promise<Job> {
  const res = await s.request<Job>('GET', `/v1/jobs/${jobId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** BullMQ's records of the batch steps (to see attempts and unexpected step errors). */
async function batchQueueJobs(s: Stack) {
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
async function expectNothingLeftOpen(s: Stack): Promise<void> {
  const list = await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100');
  expect(list.status).toBe(200);
  expect(list.body.data.filter((j) => !isTerminal(j)).map((j) => `${j.id} is ${j.status}`)).toEqual([]);
  expect(list.body.data.every(countsAddUp)).toBe(true);
  expect(await s.redis.scard(s.keys.inflight)).toBe(0);
  const crashed = (await batchQueueJobs(s)).filter((j) => j.failedReason).map((j) => `${j.id}: ${j.failedReason}`);
  expect(crashed).toEqual([]);
}

/** Checks `holds` every 50 ms for `ms`, failing at the first moment it does not: an observation window, not a sleep. */
async function holdsFor(ms: number, holds: () => Promise<string | null> | string | null): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const broken = await holds();
    if (broken !== null) throw new Error(`condition broke inside the ${ms} ms window: ${broken}`);
    if (Date.now() >= until) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Sample {
  t: number;
  requests: number;
  submissions: number;
  polls: number;
  downloads: number;
  byStatus: Record<string, number>;
}

/** A timeline of the simulator's counters, sampled every few ms, to tell when foxapi was called. */
class SimWatch {
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
function bursts(times: number[], gapMs: number): number[][] {
  const out: number[][] = [];
  for (const t of times) {
    const last = out[out.length - 1];
    if (last && t - last[last.length - 1]! <= gapMs) last.push(t);
    else out.push([t]);
  }
  return out;
}

function expectAllTranscribed(results: FileResult[], files: string[]): void {
  expect(results.map((r) => r.status)).toEqual(files.map(() => 'completed'));
  for (const r of results) {
    expect(r.error).toBeNull();
    expect(r.file_url).toBe(files[r.index]);
    expect(r.transcript?.text).toContain(`This is the recording at ${files[r.index]!.split('/').pop()}`);
  }
}

describe('429 on submit (decision 4: back off, honour Retry-After, global)', () => {
  it('when foxapi answers 429 with Retry-After to a submit, then the batch waits that long without spending an attempt and is submitted exactly once', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 429, times: 1, retryAfterS: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(3, 'ra');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0, queued: 0, submitted: 0 });
    expect(job.error).toBeNull();
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 429)).toBe(1);
    expect(st.rateLimited).toBe(1);
    expect(answered(st, 200)).toBe(1 + st.polls);
    // Retry-After: 1 s, honoured — not sooner, and not the 5–60 s default back-off.
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    // A 429 is not a failure of the step: BullMQ counts the one successful run only.
    const [bull] = (await batchQueueJobs(s)).filter((j) => j.id === batchQueueJobId(created.id, 0));
    expect(bull?.attemptsMade).toBe(1);
    expect(bull?.failedReason ?? '').toBe('');
    await expectNothingLeftOpen(s);
  });

  it('when foxapi answers 429 without Retry-After, then the batch backs off (default, from 5 s) and is then submitted exactly once', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 429, times: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(2, 'nora');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 429)).toBe(1);
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    // The smallest back-off decision 4 allows is half of the 5 s base (equal jitter); the largest first one 10 s.
    expect(gap).toBeGreaterThanOrEqual(2_400);
    expect(gap).toBeLessThanOrEqual(10_500);
    await expectNothingLeftOpen(s);
  });

  it('when one submit gets 429 with Retry-After while three workers hold more batches, then no worker sends anything to foxapi until Retry-After has passed', async () => {
    // 4 requests/s across all workers: without a shared pause the next 4 steps would go out ~1 s after the first.
    const s = await start({
      apiEnv: { BATCH_SIZE: '1' },
      workerEnv: { FOXAPI_MAX_RPS: '4' },
      extraWorkers: 2,
      sim: faults({ route: 'submit', status: 429, times: 1, retryAfterS: 2 }),
    });
    expect(s.workers).toHaveLength(3);
    const watch = new SimWatch(s);
    const files = urls(8, 'shared');
    const created = await s.submit({ file_urls: files });
    expect(created.batches.total).toBe(8);

    const job = await s.waitForJob(created.id, isTerminal, 30_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.batches).toMatchObject({ total: 8, completed: 8 });
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(answered(st, 429)).toBe(1);
    expect(st.submissions).toBe(8);
    expect(st.duplicateSubmissions).toBe(0);
    // The quiet window: from shortly after the 429 (requests already on the wire may land) to
    // shortly before Retry-After ends, foxapi receives nothing at all — no submit, no poll.
    const t429 = watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    const window = watch.samples.filter((x) => x.t >= t429 + 300 && x.t <= t429 + 1_800);
    expect(window.length).toBeGreaterThan(10);
    expect([...new Set(window.map((x) => x.requests))]).toHaveLength(1);
    await expectNothingLeftOpen(s);
  });

  it('when foxapi keeps answering 429 for seconds to several workers, then each Retry-After window sees one burst of at most FOXAPI_MAX_RPS requests, not a retry storm', async () => {
    const maxRps = 4;
    const retryAfterS = 1;
    const s = await start({
      apiEnv: { BATCH_SIZE: '1' },
      workerEnv: { FOXAPI_MAX_RPS: String(maxRps) },
      extraWorkers: 2,
      sim: faults({ route: 'submit', status: 429, retryAfterS }),
    });
    const watch = new SimWatch(s);
    const files = urls(12, 'storm');
    const created = await s.submit({ file_urls: files });

    await waitFor(async () => (answered(s.sim.stats(), 429) > 0 ? true : undefined), { what: 'the first 429' });
    const faultFrom = Date.now();
    await holdsFor(3_000, () => (s.sim.stats().submissions === 0 ? null : 'a submit got through a 429 fault'));
    s.sim.configure({ faults: [] });
    const faultMs = Date.now() - faultFrom;

    const job = await s.waitForJob(created.id, isTerminal, 30_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(12);
    expect(st.duplicateSubmissions).toBe(0);
    const waves = bursts(watch.answersOf(429), 400);
    const total429 = answered(st, 429);
    // One wave per Retry-After window (plus the one already on the wire when the fault began).
    expect(waves.length).toBeLessThanOrEqual(Math.ceil(faultMs / (retryAfterS * 1000)) + 2);
    for (const wave of waves) expect(wave.length).toBeLessThanOrEqual(maxRps);
    for (let i = 1; i < waves.length; i++) expect(waves[i]![0]! - waves[i - 1]![0]!).toBeGreaterThanOrEqual(retryAfterS * 1000 - 100);
    expect(total429).toBeLessThanOrEqual(maxRps * waves.length);
    expect(st.rateLimited).toBe(total429);
    await expectNothingLeftOpen(s);
  });
});

describe('500 / 503 / hang on poll (decision 4: back off and poll again)', () => {
  it('when polls get 500, 500, 503 with Retry-After, then the batch backs off each time, is never resubmitted, and the job completes', async () => {
    const s = await start({
      sim: faults({ route: 'poll', status: 500, times: 2, retryAfterS: 1 }, { route: 'poll', status: 503, times: 1, retryAfterS: 1 }),
    });
    const watch = new SimWatch(s);
    const files = urls(3, 'poll5xx');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 20_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 500)).toBe(2);
    expect(answered(st, 503)).toBe(1);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    // Each failed poll was followed by a Retry-After pause before the next one.
    const errors = [...watch.answersOf(500), ...watch.answersOf(503)].sort((a, b) => a - b);
    const firstGoodPoll = watch.firstAt((x) => x.polls >= 1, 'an answered poll');
    const marks = [...errors, firstGoodPoll];
    for (let i = 1; i < marks.length; i++) expect(marks[i]! - marks[i - 1]!).toBeGreaterThanOrEqual(900);
    await expectNothingLeftOpen(s);
  });

  it('when polls get 503 without Retry-After, then the batch backs off with the default jittered back-off, is never resubmitted, and completes', async () => {
    const s = await start({
      sim: faults({ route: 'poll', status: 503, times: 2 }),
      workerEnv: { FOXAPI_BACKOFF_BASE_MS: '400', FOXAPI_BACKOFF_MAX_MS: '2000' },
    });
    const watch = new SimWatch(s);
    const files = urls(2, 'poll503');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 20_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 503)).toBe(2);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    // Back-off from 400 ms, doubling, with jitter between half and all of it: each failed poll
    // is followed by a pause of at least 200 ms, then 400 ms, before the next look.
    const errors = watch.answersOf(503).sort((a, b) => a - b);
    const firstGoodPoll = watch.firstAt((x) => x.polls >= 1, 'an answered poll');
    const marks = [...errors, firstGoodPoll];
    expect(marks[1]! - marks[0]!).toBeGreaterThanOrEqual(150);
    expect(marks[2]! - marks[1]!).toBeGreaterThanOrEqual(350);
    await expectNothingLeftOpen(s);
  });

  it('when a poll gets 429 with Retry-After, then polling pauses that long and the job completes without a resubmit', async () => {
    const s = await start({ sim: faults({ route: 'poll', status: 429, times: 1, retryAfterS: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(2, 'poll429');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 429)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    const gap = watch.firstAt((x) => x.polls >= 1, 'an answered poll') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    await expectNothingLeftOpen(s);
  });

  it('when a poll hangs past FOXAPI_TIMEOUT_MS, then it is retried later and the job completes without a resubmit', async () => {
    const s = await start({ workerEnv: { FOXAPI_TIMEOUT_MS: '1000' }, sim: faults({ route: 'poll', status: 0, times: 1 }) });
    const files = urls(2, 'pollhang');
    const created = await s.submit({ file_urls: files });

    // A hang carries no Retry-After: the default back-off (5–10 s for a first failure) applies.
    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 0)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    await expectNothingLeftOpen(s);
  });
});

describe('ambiguous submits: 5xx and timeouts (decision 3)', () => {
  const cases = [
    { retry: 'false', createTaskAnyway: false, outcome: 'failed', tasks: 0, dups: 0 },
    { retry: 'false', createTaskAnyway: true, outcome: 'failed', tasks: 1, dups: 0 },
    { retry: 'true', createTaskAnyway: false, outcome: 'completed', tasks: 1, dups: 0 },
    { retry: 'true', createTaskAnyway: true, outcome: 'completed', tasks: 2, dups: 3 },
  ] as const;

  it.each(cases)(
    'when a submit gets 500 (task created anyway: $createTaskAnyway) and SUBMIT_RETRY_AMBIGUOUS=$retry, then the job is $outcome with $tasks foxapi task(s) and $dups duplicate URL submissions',
    async ({ retry, createTaskAnyway, outcome, tasks, dups }) => {
      const s = await start({
        workerEnv: { SUBMIT_RETRY_AMBIGUOUS: retry },
        sim: faults({ route: 'submit', status: 500, times: 1, retryAfterS: 1, createTaskAnyway }),
      });
      const files = urls(3, `amb-${retry}-${createTaskAnyway}`);
      const created = await s.submit({ file_urls: files });

      const job = await s.waitForJob(created.id, isTerminal, 25_000);
      expect(job.status).toBe(outcome);
      const results = await allResults(s, created.id);
      if (outcome === 'failed') {
        expect(job.counts).toMatchObject({ total: 3, failed: 3, completed: 0 });
        expect(job.batches).toMatchObject({ total: 1, failed: 1 });
        expect(results.map((r) => r.error?.code)).toEqual([
          'upstream_submit_ambiguous',
          'upstream_submit_ambiguous',
          'upstream_submit_ambiguous',
        ]);
        expect(results.every((r) => r.status === 'failed' && r.transcript === null)).toBe(true);
      } else {
        expectAllTranscribed(results, files);
      }

      const st = s.sim.stats();
      expect(answered(st, 500)).toBe(1);
      expect(st.submissions).toBe(tasks);
      expect(st.duplicateSubmissions).toBe(dups);
      // A task created behind a 500 is unknown to batchscribe: it is never polled.
      if (createTaskAnyway) expect(st.tasks.filter((t) => t.polls === 0)).toHaveLength(1);
      if (outcome === 'failed') expect(st.polls).toBe(0);
      await expectNothingLeftOpen(s);
    },
  );

  it('when an ambiguous 500 carries Retry-After and SUBMIT_RETRY_AMBIGUOUS=true, then the resubmit waits Retry-After, not the default 5–10 s back-off', async () => {
    const s = await start({
      workerEnv: { SUBMIT_RETRY_AMBIGUOUS: 'true' },
      sim: faults({ route: 'submit', status: 500, times: 1, retryAfterS: 1 }),
    });
    const watch = new SimWatch(s);
    const created = await s.submit({ file_urls: urls(1, 'amb-ra') });
    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(s.sim.stats().submissions).toBe(1);
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 500) >= 1, 'a 500');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    await expectNothingLeftOpen(s);
  });

  it('when a job failed with upstream_submit_ambiguous, then POST /retry sends its files once more and the job completes', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 500, times: 1 }) });
    const files = urls(2, 'amb-retry');
    const created = await s.submit({ file_urls: files });
    const failed = await s.waitForJob(created.id);
    expect(failed.status).toBe('failed');
    expect(s.sim.stats().submissions).toBe(0);

    const retried = await s.request<Job>('POST', `/v1/jobs/${created.id}/retry`);
    expect(retried.status).toBe(202);
    const job = await s.waitForJob(
      created.id,
      (j) => isTerminal(j) && j.counts.queued === 0 && j.counts.submitted === 0 && j.status !== 'failed',
      15_000,
    );
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a submit hangs past FOXAPI_TIMEOUT_MS, then it is ambiguous: the batch fails upstream_submit_ambiguous and is not resent', async () => {
    const s = await start({ workerEnv: { FOXAPI_TIMEOUT_MS: '1000' }, sim: faults({ route: 'submit', status: 0, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'submithang') });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_submit_ambiguous', 'upstream_submit_ambiguous']);

    const st = s.sim.stats();
    expect(st.requests).toBe(1);
    expect(answered(st, 0)).toBe(1);
    expect(st.submissions).toBe(0);
    expect(st.polls).toBe(0);
    await expectNothingLeftOpen(s);
  });
});

describe('401 and 402 on submit (decision 4: pause submits)', () => {
  it('when foxapi answers 401, then the job fails with upstream_auth, submits pause, and a second job is not sent while paused', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 401, times: 1 }) });
    const first = await s.submit({ file_urls: urls(2, 'auth') });

    const job = await s.waitForJob(first.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('upstream_auth');
    expect(job.counts).toMatchObject({ total: 2, failed: 2, completed: 0 });
    const results = await allResults(s, first.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_auth', 'upstream_auth']);

    expect(await s.redis.get(s.keys.submitPause)).toBe('upstream_auth');
    const ttl = await s.redis.pttl(s.keys.submitPause);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const before = s.sim.stats();
    expect(before.submissions).toBe(0);
    expect(answered(before, 401)).toBe(1);

    const second = await s.submit({ file_urls: urls(1, 'auth-next') });
    await holdsFor(1_500, async () => {
      const st = s.sim.stats();
      if (st.requests !== before.requests) return `foxapi got ${st.requests - before.requests} more request(s)`;
      const j = await getJob(s, second.id);
      return j.status === 'queued' && j.counts.queued === 1 && j.error === null
        ? null
        : `second job is ${j.status}, error ${JSON.stringify(j.error)}`;
    });

    // Clean up the job that waits out the pause: a cancel settles queued batches at once.
    expect((await s.request('POST', `/v1/jobs/${second.id}/cancel`)).status).toBe(202);
    expect((await s.waitForJob(second.id)).status).toBe('cancelled');
    expect(s.sim.stats().submissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when foxapi answers 402, then nothing is failed and submits pause with upstream_insufficient_quota', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'quota') });

    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) === 'upstream_insufficient_quota' ? true : undefined), {
      what: 'the quota pause',
    });
    const ttl = await s.redis.pttl(s.keys.submitPause);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await holdsFor(1_000, async () => {
      const j = await getJob(s, created.id);
      return j.status === 'queued' && j.counts.queued === 2 && j.counts.failed === 0 && j.error === null
        ? null
        : `job is ${j.status} ${JSON.stringify(j.counts)}`;
    });
    const results = await allResults(s, created.id);
    expect(results.every((r) => r.status === 'queued' && r.error === null)).toBe(true);
    const st = s.sim.stats();
    expect(st.submissions).toBe(0);
    expect(answered(st, 402)).toBe(1);
    expect(st.requests).toBe(1);

    expect((await s.request('POST', `/v1/jobs/${created.id}/cancel`)).status).toBe(202);
    expect((await s.waitForJob(created.id)).status).toBe('cancelled');
    await expectNothingLeftOpen(s);
  });

  it('when submits are paused by a 402, then the Job says why its files wait', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const created = await s.submit({ file_urls: urls(1, 'quota-why') });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    const job = (await getJob(s, created.id)) as Job & { waiting_reason?: { code: string; message: string } | null };
    expect(job.status).toBe('queued');
    expect(job.waiting_reason?.code).toBe('upstream_insufficient_quota');
    expect(job.waiting_reason?.message).toMatch(/402|balance|quota/i);
    const listed = await s.request<{ data: Array<Job & { waiting_reason?: { code: string } | null }> }>('GET', '/v1/jobs');
    expect(listed.body.data.find((j) => j.id === created.id)?.waiting_reason?.code).toBe('upstream_insufficient_quota');

    expect((await s.request('POST', `/v1/jobs/${created.id}/cancel`)).status).toBe(202);
    const cancelled = (await s.waitForJob(created.id)) as Job & { waiting_reason?: unknown };
    expect(cancelled.waiting_reason ?? null).toBeNull();
    await expectNothingLeftOpen(s);
  });

  it('when the operator resumes after a 402 (pause key deleted, balance topped up), then the waiting job is submitted within seconds and completes', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const files = urls(2, 'quota-resume');
    const created = await s.submit({ file_urls: files });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    await s.redis.del(s.keys.submitPause);
    const job = await s.waitForJob(created.id, isTerminal, 10_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(answered(st, 402)).toBe(1);
    await expectNothingLeftOpen(s);
  });

  it('when a 402 pause runs out, then the next submit probes foxapi by itself and the waiting job completes', async () => {
    const s = await start({
      sim: faults({ route: 'submit', status: 402, times: 1 }),
      workerEnv: { SUBMIT_PAUSE_MS: '1000', SUBMIT_PAUSE_RECHECK_MS: '200' },
    });
    const files = urls(2, 'quota-probe');
    const created = await s.submit({ file_urls: files });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 402)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });
});

describe('permanent upstream answers (decision 4: 404 on poll, 422 on submit)', () => {
  it('when a poll gets 404, then the batch fails upstream_task_lost and the job is failed', async () => {
    const s = await start({ sim: faults({ route: 'poll', status: 404, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'lost') });

    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2, completed: 0 });
    expect(job.batches).toMatchObject({ total: 1, failed: 1 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_task_lost', 'upstream_task_lost']);
    expect(results.every((r) => r.task_id?.startsWith('task-unified-'))).toBe(true);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(answered(st, 404)).toBe(1);
    expect(st.polls).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a submit gets 422 unsupported_advanced_options, then that batch fails with that code and the other batch completes', async () => {
    const s = await start({ apiEnv: { BATCH_SIZE: '2' }, sim: faults({ route: 'submit', status: 422, times: 1 }) });
    const files = urls(4, 'adv');
    const created = await s.submit({ file_urls: files });
    expect(created.batches.total).toBe(2);

    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('completed_with_errors');
    expect(job.counts).toMatchObject({ total: 4, completed: 2, failed: 2 });
    expect(job.batches).toMatchObject({ total: 2, completed: 1, failed: 1 });
    const results = await allResults(s, created.id);
    const failedBatch = results.find((r) => r.status === 'failed')!.batch;
    for (const r of results) {
      if (r.batch === failedBatch) {
        expect(r).toMatchObject({ status: 'failed', task_id: null, transcript: null, error: { code: 'unsupported_advanced_options' } });
      } else {
        expect(r.status).toBe('completed');
        expect(r.transcript?.text).toContain(files[r.index]!.split('/').pop());
      }
    }

    const st = s.sim.stats();
    expect(answered(st, 422)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });
});

describe('bad or missing results (decisions 1 and 2)', () => {
  it('when a completed task has an unparsable result, then the file fails upstream_unparsable_result and the worker goes on with the next job', async () => {
    const s = await start();
    const garbage = await s.submit({ file_urls: ['https://m.example.com/sim-garbage-1.wav'] });
    const bad = await s.waitForJob(garbage.id);
    expect(bad.status).toBe('failed');
    expect(bad.error).toBeNull();
    const [result] = await allResults(s, garbage.id);
    expect(result).toMatchObject({ status: 'failed', transcript: null, error: { code: 'upstream_unparsable_result' } });
    expect(await s.transcripts.readTaskAnswer(garbage.id, 0)).toContain('sim-garbage-1');

    const files = urls(2, 'after-garbage');
    const next = await s.submit({ file_urls: files });
    const good = await s.waitForJob(next.id);
    expect(good.status).toBe('completed');
    expectAllTranscribed(await allResults(s, next.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(2);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a task never ends, then after TASK_TIMEOUT_MS its files fail upstream_timeout and the job is failed', async () => {
    const s = await start({ workerEnv: { TASK_TIMEOUT_MS: '1500' } });
    const created = await s.submit({ file_urls: ['https://m.example.com/sim-never.wav', 'https://m.example.com/plain.wav'] });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_timeout', 'upstream_timeout']);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    expect(st.tasks[0]?.status).toBe('processing');
    await expectNothingLeftOpen(s);
  });

  it('when transcript downloads get 500 twice, then they are fetched again and the job completes with every transcript', async () => {
    const s = await start({ sim: faults({ route: 'download', status: 500, times: 2, retryAfterS: 1 }) });
    const files = urls(3, 'dl');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);
    for (const i of [0, 1, 2]) {
      const txt = await s.request('GET', `/v1/jobs/${created.id}/files/${i}/transcript?format=txt`);
      expect(txt.status).toBe(200);
    }

    const st = s.sim.stats();
    expect(st.faultsInjected).toBe(2);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(st.downloads).toBeGreaterThanOrEqual(3);
    expect(st.downloads).toBeLessThanOrEqual(6);
    expect(st.downloadsWithAuth).toBe(0);
    await expectNothingLeftOpen(s);
  });
});
