import { afterEach, describe, expect, it } from '@jest/globals';
import { transcriptionFor } from '@batchscribe/foxapi-sim';
import type { Job } from '@batchscribe/shared';
import { runCli } from '../../apps/cli/src/index.js';
import { memoryIo } from '../../apps/cli/test/fake-api.js';
import { promtoolCheck, sample } from '../support/prometheus-text.js';
import { Stack, TOKENS, countsAddUp } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/*
 * Costs (README, "Costs") through the whole service: real Redis, the simulator over HTTP with
 * meeting-size transcripts. What the Job, GET /v1/usage, /metrics and the simulator's own
 * counters say must agree, also for a job that reuses earlier transcripts; a tenant's monthly budget holds its batches until the month turns
 * (a clock the test moves) or the budget is raised.
 */

interface UsageReport {
  data: Array<{ date: string; jobs: number; files: number; audio_seconds: number; billed_seconds: number | null; reused_files: number }>;
  budget: { month: string; hours: number; used_hours: number; remaining_hours: number } | null;
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const meeting = (tag: string, minutes: number) => `https://media.example.com/${tag}/sim-minutes=${minutes}/meeting.wav`;
const sourceSeconds = (url: string) => transcriptionFor(url).properties.original_duration_in_milliseconds / 1000;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function usage(s: Stack, query = '', token: string = TOKENS.acme): Promise<UsageReport> {
  const res = await s.request<UsageReport>('GET', `/v1/usage${query}`, { token });
  expect(res.status).toBe(200);
  return res.body;
}

async function scrape(s: Stack): Promise<string> {
  const res = await fetch(`${s.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** A clock the test moves: real time running on from `start`, plus the jumps made. */
function movableClock(start: number): { now: () => number; jumpTo: (t: number) => void } {
  let offset = start - Date.now();
  return { now: () => Date.now() + offset, jumpTo: (t) => (offset = t - Date.now()) };
}

describe('usage of a job: Job, GET /v1/usage, /metrics and the simulator agree', () => {
  it('when a job has transcribed, failed and cancelled files, then all four count the same files, audio and billed seconds', async () => {
    // One task open at a time, two files a task: the cancel finds most batches still queued.
    stack = await Stack.start({
      sim: { taskDurationMs: 300 },
      apiEnv: { BATCH_SIZE: '2' },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1' },
    });
    const s = stack;
    const files = Array.from({ length: 24 }, (_, i) =>
      i === 3 || i === 6 ? `https://media.example.com/sim-fail-${i}.wav` : meeting(`m${i}`, 10 + 7 * i),
    );
    const job = await s.submit({ file_urls: files });
    expect(job.usage).toEqual({ audio_seconds: 0, billed_seconds: null, reused_files: 0 });

    // Every observation: usage moves with the counts, never ahead of the completed files.
    const seen: Job[] = [];
    await s.waitForJob(
      job.id,
      (j) => {
        seen.push(j);
        return j.counts.failed >= 2;
      },
      60_000,
    );
    const cancel = await s.request<Job>('POST', `/v1/jobs/${job.id}/cancel`);
    expect(cancel.status).toBe(202);
    const final = await s.waitForJob(job.id, (j) => j.status === 'cancelled', 60_000);

    expect(final.counts).toMatchObject({ failed: 2, total: 24 });
    expect(final.counts.completed).toBeGreaterThanOrEqual(5);
    expect(final.counts.cancelled).toBeGreaterThan(0);
    for (const j of [...seen, final]) {
      expect(countsAddUp(j)).toBe(true);
      expect(j.usage.audio_seconds === 0).toBe(j.counts.completed === 0);
    }

    // The files the Job says were transcribed, and what the simulator says it transcribed and billed.
    const results = await s.request<{
      data: Array<{ file_url: string; status: string; transcript: { duration_ms: number | null } | null }>;
    }>('GET', `/v1/jobs/${job.id}/results?limit=100&include_transcript=true`);
    const completed = results.body.data.filter((r) => r.status === 'completed');
    expect(completed).toHaveLength(final.counts.completed);
    const audio = sum(completed.map((r) => sourceSeconds(r.file_url)));
    expect(sum(completed.map((r) => (r.transcript?.duration_ms ?? 0) / 1000))).toBeCloseTo(audio, 6);
    const sim = s.sim.stats();
    const simTranscribed = Object.keys(sim.submittedUrls).filter((u) => !u.includes('sim-fail'));
    expect(simTranscribed.sort()).toEqual(completed.map((r) => r.file_url).sort());
    expect(sim.audioSecondsTranscribed).toBeCloseTo(audio, 6);
    expect(sim.billedSeconds).toBeGreaterThan(0);
    expect(sim.billedSeconds).toBeLessThan(audio);

    expect(final.usage.audio_seconds).toBeCloseTo(audio, 6);
    expect(final.usage.billed_seconds).toBe(sim.billedSeconds);
    expect(final.usage.reused_files).toBe(0);

    const today = new Date().toISOString().slice(0, 10);
    const report = await usage(s);
    expect(report.budget).toBeNull();
    expect(report.data).toEqual([
      {
        date: today,
        jobs: 1,
        files: final.counts.completed,
        audio_seconds: expect.any(Number),
        billed_seconds: sim.billedSeconds,
        reused_files: 0,
      },
    ]);
    expect(report.data[0]!.audio_seconds).toBeCloseTo(audio, 6);
    // Another tenant sees nothing of it.
    expect((await usage(s, '', TOKENS.globex)).data).toEqual([]);

    const metrics = await scrape(s);
    expect(sample(metrics, 'batchscribe_audio_seconds_total', { tenant: 'acme' })).toBeCloseTo(audio, 3);
    expect(sample(metrics, 'batchscribe_billed_seconds_total', { tenant: 'acme' })).toBe(sim.billedSeconds);
    expect(sample(metrics, 'batchscribe_reused_files_total', { tenant: 'acme' })).toBe(0);
    expect(sample(metrics, 'batchscribe_audio_seconds_total', { tenant: 'globex' })).toBeUndefined();
    const complaint = promtoolCheck(metrics);
    if (complaint !== 'skipped') expect(complaint).toBeNull();
  }, 120_000);

  it('when a reuse job has transcribed, failed, reused and cancelled files, then the Job, GET /v1/usage, /metrics and the simulator agree', async () => {
    stack = await Stack.start({
      sim: { taskDurationMs: 300 },
      apiEnv: { BATCH_SIZE: '2' },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1' },
    });
    const s = stack;
    // An earlier job transcribes four recordings; the mixed job names them again among new ones.
    const earlier = [0, 1, 2, 3].map((i) => meeting(`seen${i}`, 20 + 5 * i));
    const prior = await s.waitForJob((await s.submit({ file_urls: earlier })).id, undefined, 60_000);
    expect(prior.status).toBe('completed');
    const simBefore = s.sim.stats();

    // Batches of two: [seen0, seen1] all reused, [new, seen2] and [seen3, fail] mixed, the rest new.
    const files = [
      earlier[0]!,
      earlier[1]!,
      meeting('new0', 11),
      earlier[2]!,
      earlier[3]!,
      'https://media.example.com/sim-fail-mixed.wav',
      ...Array.from({ length: 18 }, (_, i) => meeting(`new${i + 1}`, 12 + 3 * i)),
    ];
    const job = await s.submit({ file_urls: files, reuse: true });
    const seen: Job[] = [];
    await s.waitForJob(
      job.id,
      (j) => {
        seen.push(j);
        return j.counts.failed >= 1 && j.usage.reused_files === 4;
      },
      60_000,
    );
    expect((await s.request<Job>('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    const final = await s.waitForJob(job.id, (j) => j.status === 'cancelled', 60_000);
    expect(final.counts).toMatchObject({ failed: 1, total: 24 });
    expect(final.counts.cancelled).toBeGreaterThan(0);
    expect(final.usage.reused_files).toBe(4);
    for (const j of [...seen, final]) expect(countsAddUp(j)).toBe(true);

    const results = await s.request<{
      data: Array<{ index: number; file_url: string; status: string; reused_from: { job_id: string; index: number } | null }>;
    }>('GET', `/v1/jobs/${job.id}/results?limit=100&include_transcript=false`);
    const completed = results.body.data.filter((r) => r.status === 'completed');
    expect(completed).toHaveLength(final.counts.completed);
    const reused = completed.filter((r) => r.reused_from !== null);
    expect(reused.map((r) => [r.file_url, r.reused_from])).toEqual(earlier.map((url, i) => [url, { job_id: prior.id, index: i }]));
    const transcribed = completed.filter((r) => r.reused_from === null);
    expect(transcribed.length).toBeGreaterThan(0);
    // audio_seconds counts what this job transcribed, not what it reused; billed is what foxapi billed for it.
    const audio = sum(transcribed.map((r) => sourceSeconds(r.file_url)));
    const sim = s.sim.stats();
    for (const url of earlier) expect(sim.submittedUrls[url]).toBe(1);
    expect(sim.audioSecondsTranscribed - simBefore.audioSecondsTranscribed).toBeCloseTo(audio, 6);
    expect(final.usage.audio_seconds).toBeCloseTo(audio, 6);
    expect(final.usage.billed_seconds).toBeCloseTo(sim.billedSeconds - simBefore.billedSeconds, 6);

    // The tenant's day: both jobs' completed files, of which the four reused; audio and billed of both.
    const row = (await usage(s)).data[0]!;
    expect(row).toMatchObject({ jobs: 2, files: prior.counts.completed + final.counts.completed, reused_files: 4 });
    expect(row.audio_seconds).toBeCloseTo(prior.usage.audio_seconds + audio, 6);
    expect(row.billed_seconds).toBeCloseTo(sim.billedSeconds, 6);

    const metrics = await scrape(s);
    expect(sample(metrics, 'batchscribe_reused_files_total', { tenant: 'acme' })).toBe(4);
    expect(sample(metrics, 'batchscribe_audio_seconds_total', { tenant: 'acme' })).toBeCloseTo(sim.audioSecondsTranscribed, 3);
    expect(sample(metrics, 'batchscribe_billed_seconds_total', { tenant: 'acme' })).toBeCloseTo(sim.billedSeconds, 3);
  }, 120_000);

  it('when the CLI asks for usage, then it reads GET /v1/usage of the running api', async () => {
    stack = await Stack.start({ apiEnv: { TENANT_BUDGETS: 'acme:2' } });
    const url = meeting('cli', 30);
    expect((await stack.waitForJob((await stack.submit({ file_urls: [url] })).id)).status).toBe('completed');

    const mem = memoryIo({ fetch, env: { BATCHSCRIBE_URL: stack.apiUrl, BATCHSCRIBE_TOKEN: TOKENS.acme } });
    expect(await runCli(['usage', '--json'], mem.io)).toBe(0);
    const shown = JSON.parse(mem.out()) as UsageReport;
    expect(shown).toEqual(await usage(stack));
    expect(shown.data[0]).toMatchObject({ jobs: 1, files: 1, audio_seconds: sourceSeconds(url) });
    expect(shown.budget).toMatchObject({ hours: 2, used_hours: sourceSeconds(url) / 3600 });

    const table = memoryIo({ fetch, env: { BATCHSCRIBE_URL: stack.apiUrl, BATCHSCRIBE_TOKEN: TOKENS.acme } });
    expect(await runCli(['usage'], table.io)).toBe(0);
    expect(table.out()).toMatch(/^DATE +JOBS +FILES +AUDIO +BILLED +REUSED\n/);
    expect(table.out()).toMatch(/\nbudget \d{4}-\d{2}: 0\.5 of 2 hours used, 1\.5 left\n$/);
  }, 60_000);
});

describe('TENANT_BUDGETS: a tenant past its monthly hours waits', () => {
  it('when acme has used its hour this month, then its next job waits (budget_exhausted) until the month turns, and others go on', async () => {
    // 23:00 on the last day of January (UTC): the api and the worker share the clock.
    const clock = movableClock(Date.UTC(2026, 0, 31, 23, 0, 0));
    stack = await Stack.start({
      clock: clock.now,
      apiEnv: { TENANT_BUDGETS: 'acme:1' },
      workerEnv: { TENANT_BUDGETS: 'acme:1', BUDGET_RECHECK_MS: '200' },
    });
    const s = stack;
    // 80 minutes in one batch: under budget when it is submitted, over it once it is transcribed.
    const first = [meeting('jan-a', 40), meeting('jan-b', 40)];
    expect((await s.waitForJob((await s.submit({ file_urls: first })).id)).status).toBe('completed');
    const january = await usage(s);
    expect(january.budget).toEqual({ month: '2026-01', hours: 1, used_hours: 4_800 / 3_600, remaining_hours: 0 });

    const held = await s.submit({ file_urls: [meeting('feb-a', 20)] });
    const waiting = await s.waitForJob(held.id, (j) => j.waiting_reason !== null);
    expect(waiting).toMatchObject({ status: 'queued', counts: { queued: 1 }, waiting_reason: { code: 'budget_exhausted' } });
    expect(waiting.waiting_reason?.message).toMatch(/acme has used 1\.33 of its 1 audio hours for 2026-01/);
    // Another tenant is not held, and acme's batch has looked again several times without being sent.
    const other = await s.submit({ file_urls: [meeting('globex', 50)] }, TOKENS.globex);
    const otherDone = await waitFor(async () => {
      const res = await s.request<Job>('GET', `/v1/jobs/${other.id}`, { token: TOKENS.globex });
      return res.body.finished_at !== null ? res.body : undefined;
    });
    expect(otherDone.status).toBe('completed');
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await s.request<Job>('GET', `/v1/jobs/${held.id}`)).body).toMatchObject({ status: 'queued', counts: { queued: 1 } });
    expect(s.sim.stats().submissions).toBe(2);
    const listed = await s.request<{ data: Job[] }>('GET', '/v1/jobs');
    expect(listed.body.data.find((j) => j.id === held.id)?.waiting_reason?.code).toBe('budget_exhausted');

    clock.jumpTo(Date.UTC(2026, 1, 1, 0, 0, 5));
    const done = await s.waitForJob(held.id);
    expect(done).toMatchObject({ status: 'completed', waiting_reason: null, usage: { audio_seconds: 1_200 } });

    const both = await usage(s, '?from=2026-01-31&to=2026-02-01');
    expect(both.data.map((d) => [d.date, d.jobs, d.files, d.audio_seconds])).toEqual([
      ['2026-01-31', 1, 2, 4_800],
      ['2026-02-01', 1, 1, 1_200],
    ]);
    expect(both.budget).toEqual({ month: '2026-02', hours: 1, used_hours: 1_200 / 3_600, remaining_hours: 1 - 1_200 / 3_600 });
    // The default range is the current month (February, by the moved clock).
    expect((await usage(s)).data.map((d) => d.date)).toEqual(['2026-02-01']);
  }, 90_000);

  it('when the budget is raised and the workers restart, then the held batch goes on in the same month', async () => {
    stack = await Stack.start({ workerEnv: { TENANT_BUDGETS: 'acme:0.25', BUDGET_RECHECK_MS: '200' } });
    const s = stack;
    expect((await s.waitForJob((await s.submit({ file_urls: [meeting('over', 20)] })).id)).status).toBe('completed');
    const held = await s.submit({ file_urls: [meeting('next', 5)] });
    expect((await s.waitForJob(held.id, (j) => j.waiting_reason !== null)).waiting_reason?.code).toBe('budget_exhausted');

    await s.workers[0]!.close();
    s.workers.splice(0, 1);
    await s.startWorker({ env: { TENANT_BUDGETS: 'acme:10', BUDGET_RECHECK_MS: '200' } });

    expect(await s.waitForJob(held.id)).toMatchObject({ status: 'completed', waiting_reason: null });
    expect(s.sim.stats().submissions).toBe(2);
  }, 60_000);
});
