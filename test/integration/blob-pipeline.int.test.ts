import { afterEach, describe, expect, it } from '@jest/globals';
import { transcriptionFor } from '@batchscribe/foxapi-sim';
import type { FileResult } from '@batchscribe/shared';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

type Page = { data: FileResult[]; next_cursor: string | null };

/** Redis bytes of every key of one job (MEMORY USAGE, which counts the key and its allocations). */
async function redisBytesOfJob(s: Stack, jobId: string): Promise<number> {
  const keys = (await s.keysUnderPrefix()).filter((k) => k.includes(jobId));
  let bytes = 0;
  for (const key of keys) bytes += Number(await s.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  return bytes;
}

describe.each(['fs', 's3'] as const)('transcripts in the %s blob store', (blob) => {
  it('when a job completes, then its transcripts are in the blob store and not in Redis, and every read path serves them', async () => {
    stack = await Stack.start({ blob });
    const files = urls(120, `blob-${blob}`);
    const created = await stack.submit({ file_urls: files });
    expect((await stack.waitForJob(created.id)).status).toBe('completed');

    expect(await stack.transcripts.storedIndexes(created.id)).toEqual(files.map((_, i) => i));
    // State only: a finished file costs a few hundred bytes of Redis, whatever its transcript.
    expect(await redisBytesOfJob(stack, created.id)).toBeLessThan(1024 * files.length);

    const page = await stack.request<Page>('GET', `/v1/jobs/${created.id}/results?limit=1000`);
    expect(page.status).toBe(200);
    expect(page.body.next_cursor).toBeNull();
    expect(page.body.data.map((r) => r.index)).toEqual(files.map((_, i) => i));
    for (const r of page.body.data) expect(r.transcript?.text).toContain(`blob-${blob}-${r.index}.wav`);

    const ndjson = await stack.request('GET', `/v1/jobs/${created.id}/results`, { headers: { accept: 'application/x-ndjson' } });
    const lines = ndjson.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileResult);
    expect(lines.map((r) => r.index)).toEqual(files.map((_, i) => i));
    expect(lines.every((r, i) => r.transcript?.text.includes(`blob-${blob}-${i}.wav`))).toBe(true);

    const raw = await stack.request('GET', `/v1/jobs/${created.id}/files/7/transcript?format=raw`);
    expect(raw.headers.get('content-type')).toContain('application/json');
    // As foxapi sent it, byte for byte in meaning: the simulator's document for that URL.
    expect(JSON.parse(raw.text)).toEqual(transcriptionFor(files[7]!));
    expect(raw.text).toContain(`blob-${blob}-7.wav`);
  });

  it('when a file is an hour of speech, then its ~0.8 MB transcript is served whole from the blob store and Redis holds no more for it', async () => {
    stack = await Stack.start({ blob });
    const meeting = `https://media.example.com/${blob}-board-meeting-sim-minutes=60.m4a`;
    const created = await stack.submit({ file_urls: [meeting, `https://media.example.com/${blob}-short.m4a`] });
    expect((await stack.waitForJob(created.id)).status).toBe('completed');

    const raw = await stack.request('GET', `/v1/jobs/${created.id}/files/0/transcript?format=raw`);
    expect(Buffer.byteLength(raw.text)).toBeGreaterThan(600_000);
    expect(JSON.parse(raw.text)).toEqual(transcriptionFor(meeting));
    const page = await stack.request<Page>('GET', `/v1/jobs/${created.id}/results`);
    const words = page.body.data[0]!.transcript!.channels.flatMap((c) => c.sentences.flatMap((x) => x.words));
    expect(words.length).toBeGreaterThan(5_000);
    expect(page.body.data[0]!.transcript!.duration_ms).toBe(3_600_000);
    const srt = await stack.request('GET', `/v1/jobs/${created.id}/files/0/transcript?format=srt`);
    expect(srt.text).toMatch(/^1\n00:00:\d\d,\d{3} --> /);
    // Redis holds state only: the same job with a two-sentence transcript costs the same bytes.
    const short = await stack.submit({
      file_urls: [`https://media.example.com/${blob}-board-meeting-sim-minutes=0.m4a`, `https://media.example.com/${blob}-short.m4a`],
    });
    expect((await stack.waitForJob(short.id)).status).toBe('completed');
    const [hourBytes, shortBytes] = [await redisBytesOfJob(stack, created.id), await redisBytesOfJob(stack, short.id)];
    expect(Math.abs(hourBytes - shortBytes)).toBeLessThan(64);
  });

  it('when include_transcript=false, then results list every file without reading the blob store', async () => {
    stack = await Stack.start({ blob });
    const files = urls(30, `listing-${blob}`);
    const created = await stack.submit({ file_urls: files });
    expect((await stack.waitForJob(created.id)).status).toBe('completed');
    // With the transcripts gone, only a listing that never reads them can still say "completed, no transcript".
    await stack.transcripts.deleteJob(created.id);

    const page = await stack.request<Page>('GET', `/v1/jobs/${created.id}/results?include_transcript=false`);
    expect(page.status).toBe(200);
    expect(page.body.data).toHaveLength(30);
    expect(page.body.data.every((r) => r.status === 'completed' && r.transcript === null && r.task_id !== null)).toBe(true);
    const ndjson = await stack.request('GET', `/v1/jobs/${created.id}/results?include_transcript=false`, {
      headers: { accept: 'application/x-ndjson' },
    });
    expect(ndjson.text.trim().split('\n')).toHaveLength(30);

    const bad = await stack.request('GET', `/v1/jobs/${created.id}/results?include_transcript=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('when a finished job is deleted, then its transcripts leave the blob store too', async () => {
    stack = await Stack.start({ blob });
    const created = await stack.submit({ file_urls: urls(5, `delete-${blob}`) });
    expect((await stack.waitForJob(created.id)).status).toBe('completed');
    expect(await stack.transcripts.storedIndexes(created.id)).toHaveLength(5);

    expect((await stack.request('DELETE', `/v1/jobs/${created.id}`)).status).toBe(204);
    expect(await stack.transcripts.storedIndexes(created.id)).toEqual([]);
    expect((await stack.request('GET', `/v1/jobs/${created.id}/files/0/transcript`)).status).toBe(404);
  });

  it('when a job expires from Redis, then the blob sweeper deletes its transcripts and keeps those of live jobs', async () => {
    stack = await Stack.start({ blob, workerEnv: { BLOB_SWEEP_MS: '300' } });
    const old = await stack.submit({ file_urls: urls(3, `old-${blob}`) });
    const live = await stack.submit({ file_urls: urls(3, `live-${blob}`) });
    expect((await stack.waitForJob(old.id)).status).toBe('completed');
    expect((await stack.waitForJob(live.id)).status).toBe('completed');

    const oldKeys = (await stack.keysUnderPrefix()).filter((k) => k.includes(old.id));
    for (const key of oldKeys) await stack.redis.pexpire(key, 1);
    await waitFor(async () => ((await stack!.transcripts.storedIndexes(old.id)).length === 0 ? true : undefined), {
      what: 'the sweeper to delete the expired job’s transcripts',
    });
    expect(await stack.transcripts.storedIndexes(live.id)).toEqual([0, 1, 2]);
  });
});
