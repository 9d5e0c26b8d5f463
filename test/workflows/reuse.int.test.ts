import { afterEach, describe, expect, it } from '@jest/globals';
import type { Job } from '@batchscribe/shared';
import { Stack, TOKENS, countsAddUp, urls } from '../support/stack.js';

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
