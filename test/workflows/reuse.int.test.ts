import { afterEach, describe, expect, it } from '@jest/globals';
import type { Job } from '@batchscribe/shared';
import { runCli } from '../../apps/cli/src/index.js';
import { memoryIo } from '../../apps/cli/test/fake-api.js';
import { Stack, TOKENS, countsAddUp, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';
import { runTus } from '../support/tus-client.js';
import { wav } from '../../scripts/lib/wav.js';

/*
 * Reuse (`"reuse": true`, README "Costs"; docs/architecture.md, "Reuse") through the whole
 * service: real Redis, the simulator over HTTP, the fs blob store.
 */

interface FileResult {
  index: number;
  file_url: string;
  status: string;
  reused_from: { job_id: string; index: number } | null;
  task_id: string | null;
  transcript: { text: string } | null;
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function results(s: Stack, jobId: string, token: string = TOKENS.acme): Promise<FileResult[]> {
  const res = await s.request<{ data: FileResult[] }>('GET', `/v1/jobs/${jobId}/results?limit=1000`, { token });
  expect(res.status).toBe(200);
  return res.body.data;
}

describe('reuse of URLs', () => {
  it('when a job asks for reuse of URLs the tenant had transcribed, then its files complete from those transcripts with no foxapi call', async () => {
    stack = await Stack.start({ apiEnv: { BATCH_SIZE: '3' } });
    const s = stack;
    const list = urls(7, 'reuse');
    const first = await s.waitForJob((await s.submit({ file_urls: list })).id);
    expect(first.status).toBe('completed');
    const submissions = s.sim.stats().submissions;

    const second = await s.submit({ file_urls: [...list.slice(2), ...list.slice(0, 2)], reuse: true });
    expect(second.reuse).toBe(true);
    const done = await s.waitForJob(second.id);
    expect(done).toMatchObject({ status: 'completed', counts: { completed: 7 }, usage: { reused_files: 7, audio_seconds: 0 } });
    expect(countsAddUp(done)).toBe(true);
    expect(s.sim.stats().submissions).toBe(submissions);

    const before = await results(s, first.id);
    const after = await results(s, second.id);
    for (const r of after) {
      const source = before.find((b) => b.file_url === r.file_url)!;
      expect(r.reused_from).toEqual({ job_id: first.id, index: source.index });
      expect(r.task_id).toBeNull();
      expect(r.transcript).toEqual(source.transcript);
    }
  }, 60_000);
});

describe('the same URL twice within one job', () => {
  it('when a reuse job repeats URLs, in one batch and across batches, then each is transcribed once and shared', async () => {
    // Every batch goes out at once, so repeats whose first copy is at foxapi wait for it.
    stack = await Stack.start({ apiEnv: { BATCH_SIZE: '3' }, sim: { taskDurationMs: 600 } });
    const s = stack;
    const [a, b, c, d] = urls(4, 'twice');
    const list = [a!, b!, a!, c!, a!, b!, d!, c!];
    const job = await s.submit({ file_urls: list, reuse: true });
    const done = await s.waitForJob(job.id);
    expect(done).toMatchObject({ status: 'completed', counts: { completed: 8 }, usage: { reused_files: 4 } });
    expect(countsAddUp(done)).toBe(true);
    // Batch 0 holds file 2 and the file it repeats: it waited in a batch of its own.
    expect(done.batches.total).toBeGreaterThanOrEqual(4);
    expect(done.batches.completed).toBe(done.batches.total);
    const sim = s.sim.stats();
    expect(sim.submittedUrls).toEqual({ [a!]: 1, [b!]: 1, [c!]: 1, [d!]: 1 });

    const got = await results(s, job.id);
    expect(got.map((r) => r.reused_from)).toEqual([
      null,
      null,
      { job_id: job.id, index: 0 },
      null,
      { job_id: job.id, index: 0 },
      { job_id: job.id, index: 1 },
      null,
      { job_id: job.id, index: 3 },
    ]);
    for (const r of got) expect(r.transcript).toEqual(got[list.indexOf(r.file_url)]!.transcript);
    // The reused files' audio was not transcribed again: audio_seconds is that of the four transcribed.
    const own = got.filter((r) => r.reused_from === null);
    expect(own).toHaveLength(4);
    const transcript = await s.request<string>('GET', `/v1/jobs/${job.id}/files/4/transcript?format=txt`);
    expect(transcript.status).toBe(200);
    expect(transcript.text).toBe((await s.request<string>('GET', `/v1/jobs/${job.id}/files/0/transcript?format=txt`)).text);
  }, 60_000);

  it('when a job without reuse repeats a URL, then it is transcribed each time, as before', async () => {
    stack = await Stack.start({ apiEnv: { BATCH_SIZE: '2' } });
    const [a] = urls(1, 'no-reuse');
    const done = await stack.waitForJob((await stack.submit({ file_urls: [a!, a!, a!] })).id);
    expect(done).toMatchObject({ status: 'completed', reuse: false, usage: { reused_files: 0 } });
    expect(stack.sim.stats().submittedUrls[a!]).toBe(3);
  }, 60_000);
});

describe('what must match for a reuse', () => {
  it('when the model or an upstream option differs, then nothing is reused; the same options in another key order are', async () => {
    stack = await Stack.start();
    const s = stack;
    const [url] = urls(1, 'options');
    const base = { file_urls: [url!], language_hints: ['en'], recognition: { disfluency_removal: true, punctuation: 'full' } };
    await s.waitForJob((await s.submit(base)).id);
    expect(s.sim.stats().submittedUrls[url!]).toBe(1);

    const variants: Array<[string, Record<string, unknown>]> = [
      ['other hints', { ...base, language_hints: ['zh'] }],
      ['other recognition', { ...base, recognition: { disfluency_removal: false, punctuation: 'full' } }],
      ['a channel', { ...base, channel_id: [0] }],
      ['diarization', { ...base, diarization: { speaker_count: 2 } }],
      ['the 8k model', { file_urls: [url!], model: 'paraformer-8k-v2', recognition: base.recognition }],
    ];
    for (const [what, body] of variants) {
      const done = await s.waitForJob((await s.submit({ ...body, reuse: true })).id);
      expect([what, done.usage.reused_files]).toEqual([what, 0]);
    }
    expect(s.sim.stats().submittedUrls[url!]).toBe(1 + variants.length);

    const reordered = {
      recognition: { punctuation: 'full', disfluency_removal: true },
      language_hints: ['en'],
      file_urls: [url!],
      reuse: true,
    };
    const same = await s.waitForJob((await s.submit(reordered)).id);
    expect(same.usage.reused_files).toBe(1);
    expect(s.sim.stats().submittedUrls[url!]).toBe(1 + variants.length);
  }, 90_000);

  it('when another tenant submits the same URL with reuse, then each tenant pays for its own', async () => {
    stack = await Stack.start();
    const s = stack;
    const [url] = urls(1, 'tenants');
    const acme = await s.waitForJob((await s.submit({ file_urls: [url!], reuse: true })).id);
    expect(acme.usage.reused_files).toBe(0);
    const created = await s.submit({ file_urls: [url!], reuse: true }, TOKENS.globex);
    const globex = await waitForTenantJob(s, created.id, TOKENS.globex);
    expect(globex).toMatchObject({ status: 'completed', usage: { reused_files: 0 } });
    expect(globex.usage.audio_seconds).toBe(acme.usage.audio_seconds);
    expect(s.sim.stats().submittedUrls[url!]).toBe(2);
    expect((await results(s, globex.id, TOKENS.globex))[0]!.reused_from).toBeNull();
    // And acme's next job does reuse its own.
    const again = await s.waitForJob((await s.submit({ file_urls: [url!], reuse: true })).id);
    expect(again.usage.reused_files).toBe(1);
    expect(s.sim.stats().submittedUrls[url!]).toBe(2);
  }, 60_000);
});

async function waitForTenantJob(s: Stack, id: string, token: string): Promise<Job> {
  for (let i = 0; i < 300; i++) {
    const res = await s.request<Job>('GET', `/v1/jobs/${id}`, { token });
    if (res.body.finished_at !== null) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

describe.each(['fs', 's3'] as const)('the transcript is shared, and outlives its job while a later job reads it (%s)', (blob) => {
  /** Every way the later job serves the reused file: a results page, NDJSON, the transcript as json, txt and raw. */
  async function servedTranscripts(s: Stack, jobId: string): Promise<string[]> {
    const page = await s.request<{ data: FileResult[] }>('GET', `/v1/jobs/${jobId}/results`);
    const ndjson = await fetch(`${s.apiUrl}/v1/jobs/${jobId}/results`, {
      headers: { authorization: `Bearer ${TOKENS.acme}`, accept: 'application/x-ndjson' },
    });
    const lines = (await ndjson.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileResult);
    const out = [JSON.stringify(page.body.data[0]!.transcript), JSON.stringify(lines[0]!.transcript)];
    for (const format of ['json', 'txt', 'raw']) {
      const res = await s.request<unknown>('GET', `/v1/jobs/${jobId}/files/0/transcript?format=${format}`);
      expect([format, res.status]).toEqual([format, 200]);
      out.push(res.text);
    }
    return out;
  }

  async function reusedPair(s: Stack, tag: string): Promise<{ source: Job; later: Job; served: string[] }> {
    const source = await s.waitForJob((await s.submit({ file_urls: urls(2, tag) })).id);
    const later = await s.waitForJob((await s.submit({ file_urls: urls(1, tag), reuse: true })).id);
    expect(later.usage.reused_files).toBe(1);
    expect((await results(s, later.id))[0]!.reused_from).toEqual({ job_id: source.id, index: 0 });
    // Not copied: the later job has no blob of its own.
    expect(await s.transcripts.storedIndexes(later.id)).toEqual([]);
    return { source, later, served: await servedTranscripts(s, later.id) };
  }

  it('when the source job is deleted, then the later job still serves the transcript; its blobs go once the later job is gone', async () => {
    stack = await Stack.start({ blob, workerEnv: { BLOB_SWEEP_MS: '200' } });
    const s = stack;
    const { source, later, served } = await reusedPair(s, 'deleted');

    expect((await s.request('DELETE', `/v1/jobs/${source.id}`)).status).toBe(204);
    expect((await s.request('GET', `/v1/jobs/${source.id}`)).status).toBe(404);
    expect(await s.transcripts.storedIndexes(source.id)).toEqual([0, 1]);
    // A few sweeps later, still there: the later job keeps them.
    await new Promise((r) => setTimeout(r, 800));
    expect(await servedTranscripts(s, later.id)).toEqual(served);

    // A deleted job is no source for new jobs: this one pays again.
    const submissions = s.sim.stats().submissions;
    const third = await s.waitForJob((await s.submit({ file_urls: urls(1, 'deleted'), reuse: true })).id);
    expect(third).toMatchObject({ status: 'completed', usage: { reused_files: 0 } });
    expect(s.sim.stats().submissions).toBe(submissions + 1);

    expect((await s.request('DELETE', `/v1/jobs/${later.id}`)).status).toBe(204);
    await waitFor(async () => ((await s.transcripts.storedIndexes(source.id)).length === 0 ? true : undefined), {
      what: 'the sweeper to delete the deleted source’s transcripts once no job reads them',
    });
    expect(await s.transcripts.storedIndexes(third.id)).toEqual([0]);
    expect((await s.keysUnderPrefix()).filter((k) => k.includes(':blobs:refs:'))).toEqual([]);
  }, 60_000);

  it('when the source job expires, then the sweeper keeps its transcripts for the later job, and deletes them once that one expires too', async () => {
    stack = await Stack.start({ blob, workerEnv: { BLOB_SWEEP_MS: '200' } });
    const s = stack;
    const { source, later, served } = await reusedPair(s, 'expired');

    const expire = async (jobId: string) => {
      for (const key of (await s.keysUnderPrefix()).filter((k) => k.includes(`:job:${jobId}`))) await s.redis.pexpire(key, 1);
    };
    await expire(source.id);
    await waitFor(async () => ((await s.redis.exists(s.keys.job(source.id))) === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 800));
    expect(await s.transcripts.storedIndexes(source.id)).toEqual([0, 1]);
    expect(await servedTranscripts(s, later.id)).toEqual(served);

    await expire(later.id);
    await waitFor(async () => ((await s.transcripts.storedIndexes(source.id)).length === 0 ? true : undefined), {
      what: 'the sweeper to delete the expired source’s transcripts once the later job expired too',
    });
  }, 60_000);
});

describe('asking for reuse: JSON, text/plain, schedules, the CLI', () => {
  it('when reuse is not a boolean, then 422 naming it and nothing is written', async () => {
    stack = await Stack.start({ worker: false });
    const s = stack;
    const before = await s.keysUnderPrefix();
    const json = await s.request<{ type: string; errors: Array<{ path: string }> }>('POST', '/v1/jobs', {
      body: { file_urls: urls(1), reuse: 'yes' },
    });
    expect(json.status).toBe(422);
    expect(json.body.errors.map((e) => e.path)).toEqual(['reuse']);
    const text = await s.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/jobs?reuse=1', {
      body: `${urls(1)[0]}\n`,
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(422);
    expect(text.body.errors).toEqual([{ path: 'reuse', message: 'must be "true" or "false"' }]);
    const schedule = await s.request<{ errors: Array<{ path: string }> }>('POST', '/v1/schedules', {
      body: { name: 'n', cron: '0 2 * * *', file_urls: urls(1), job: { reuse: 1 } },
    });
    expect(schedule.status).toBe(422);
    expect(schedule.body.errors.map((e) => e.path)).toEqual(['job.reuse']);
    expect((await s.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'))).toEqual(before.filter((k) => !k.includes(':ratelimit:')));
  });

  it('when a text/plain job or a schedule’s job asks for reuse, then the job reuses', async () => {
    stack = await Stack.start();
    const s = stack;
    const list = urls(2, 'surfaces');
    await s.waitForJob((await s.submit({ file_urls: list })).id);
    const text = await s.request<Job>('POST', '/v1/jobs?reuse=true', { body: list.join('\n'), headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(202);
    expect(text.body.reuse).toBe(true);
    expect((await s.waitForJob(text.body.id)).usage.reused_files).toBe(2);

    const created = await s.request<{ id: string; job: { reuse?: boolean } }>('POST', '/v1/schedules', {
      body: { name: 'nightly', cron: '0 2 * * *', file_urls: list, job: { reuse: true } },
    });
    expect(created.status).toBe(201);
    expect(created.body.job.reuse).toBe(true);
    const run = await s.request<Job>('POST', `/v1/schedules/${created.body.id}/run`);
    expect(run.status).toBe(202);
    expect(run.body.reuse).toBe(true);
    expect((await s.waitForJob(run.body.id)).usage.reused_files).toBe(2);
    expect(s.sim.stats().submissions).toBe(1);
  }, 60_000);

  it('when the CLI submits with --reuse, then the job reuses', async () => {
    stack = await Stack.start();
    const s = stack;
    const list = urls(3, 'cli');
    await s.waitForJob((await s.submit({ file_urls: list })).id);
    const mem = memoryIo({ fetch, env: { BATCHSCRIBE_URL: s.apiUrl, BATCHSCRIBE_TOKEN: TOKENS.acme }, stdinText: list.join('\n') });
    expect(await runCli(['submit', '-', '--reuse', '--wait', '--no-progress'], mem.io)).toBe(0);
    const id = mem.out().trim().split('\n').pop()!;
    expect(await s.waitForJob(id)).toMatchObject({ reuse: true, usage: { reused_files: 3 } });
    expect(s.sim.stats().submissions).toBe(1);
  }, 60_000);
});

describe('reuse of uploads: the same content, whatever the upload', () => {
  async function upload(s: Stack, bytes: Buffer, filename: string): Promise<string> {
    const run = await runTus({ apiUrl: s.apiUrl, token: TOKENS.acme, bytes, filename });
    expect(run.outcome).toBe('done');
    return run.url.split('/').pop()!;
  }

  it('when a later job names another upload of the same bytes, or one upload twice, then it is transcribed once', async () => {
    stack = await Stack.start({ apiEnv: { BATCH_SIZE: '2' } });
    const s = stack;
    const first = await upload(s, wav(2, 7), 'monday.wav');
    const done = await s.waitForJob((await s.submit({ files: [{ upload_id: first }] })).id);
    expect(done.status).toBe('completed');
    expect(s.sim.stats().submissions).toBe(1);

    // The same recording uploaded again under another name, a new one, and the new one again.
    const again = await upload(s, wav(2, 7), 'monday-copy.wav');
    const other = await upload(s, wav(2, 8), 'tuesday.wav');
    const later = await s.submit({ files: [{ upload_id: again }, { upload_id: other }, { upload_id: other }], reuse: true });
    const ended = await s.waitForJob(later.id);
    expect(ended).toMatchObject({ status: 'completed', counts: { completed: 3 }, usage: { reused_files: 2 } });
    expect(s.sim.stats().submissions).toBe(2);
    const got = await results(s, later.id);
    expect(got.map((r) => r.reused_from)).toEqual([{ job_id: done.id, index: 0 }, null, { job_id: later.id, index: 1 }]);
    const source = await results(s, done.id);
    expect(got[0]!.transcript).toEqual(source[0]!.transcript);
  }, 60_000);
});
