import { brotliCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from '@jest/globals';
import { transcriptionFor } from '@batchscribe/foxapi-sim';
import { STATUS_LETTERS, type FileResult } from '@batchscribe/shared';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('transcripts kept in Redis by earlier releases', () => {
  it('when a worker starts on a Redis with a job whose transcripts are in a Redis hash, then they move to the blob store and results still show them', async () => {
    stack = await Stack.start({ worker: false });
    const files = urls(3, 'legacy');
    const created = await stack.submit({ file_urls: files });
    // Play the job to its end the way an earlier release left it: records completed, transcripts in `:tx`.
    const job = stack.keys.job(created.id);
    const legacy = `${job}:tx`;
    for (const [i, url] of files.entries()) {
      await stack.redis.hset(legacy, String(i), brotliCompressSync(Buffer.from(JSON.stringify(transcriptionFor(url)))));
    }
    await stack.redis.hset(job, { f_queued: 0, f_completed: 3, b_queued: 0, b_completed: 1, status: 'completed' });
    await stack.redis.hset(stack.keys.batch(created.id, 0), {
      state: 'completed',
      task_id: 'task-legacy',
      st: STATUS_LETTERS.completed.repeat(3),
    });

    await stack.startWorker();
    await waitFor(async () => ((await stack!.redis.exists(legacy)) === 0 ? true : undefined), { what: 'the legacy hash to be emptied' });
    expect(await stack.transcripts.storedIndexes(created.id)).toEqual([0, 1, 2]);
    const page = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${created.id}/results`);
    expect(page.body.data.map((r) => r.transcript?.text.includes(`legacy-${r.index}.wav`))).toEqual([true, true, true]);
    expect(stack.sim.stats().submissions).toBe(0);
  });
});
