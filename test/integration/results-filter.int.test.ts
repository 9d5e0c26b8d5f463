import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { STATUS_LETTERS, type FileResult, type Job } from '@batchscribe/shared';
import { Stack, urls } from '../support/stack.js';

/**
 * A status filter on a large job walks the batch records' status letters and reads whole only
 * the batches that hold a match, at most a scan budget of files per request, and the cursor
 * carries on from where the scan stopped.
 */

const FILES = 25_000;
const FAILED = [5, 12_345, 24_999];

let stack: Stack;
let job: Job;
beforeAll(async () => {
  stack = await Stack.start({ worker: false });
  job = await stack.submit({ file_urls: urls(FILES, 'filter') });
  // Mark three files failed the way FINISH_BATCH leaves them: a letter in `st`, the error in `err`.
  for (const index of FAILED) {
    const key = stack.keys.batch(job.id, Math.floor(index / 100));
    const st = (await stack.redis.hget(key, 'st'))!;
    const offset = index % 100;
    await stack.redis.hset(key, {
      st: st.slice(0, offset) + STATUS_LETTERS.failed + st.slice(offset + 1),
      err: JSON.stringify({ [offset]: { code: 'InvalidFile', message: `file ${index}` } }),
    });
  }
});
afterAll(async () => {
  await stack.stop();
});

async function page(query: string): Promise<{ data: FileResult[]; next_cursor: string | null }> {
  const res = await stack.request<{ data: FileResult[]; next_cursor: string | null }>('GET', `/v1/jobs/${job.id}/results?${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('results filtered by status on a 25,000-file job', () => {
  it('when the failed files are sparse, then following the cursor finds exactly them, with their errors, in index order', async () => {
    const found: FileResult[] = [];
    let cursor: string | null = null;
    let requests = 0;
    do {
      const body = await page(`status=failed&include_transcript=false${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      found.push(...body.data);
      cursor = body.next_cursor;
      requests++;
    } while (cursor !== null && requests < 10);
    expect(found.map((f) => f.index)).toEqual(FAILED);
    expect(found.map((f) => f.error?.message)).toEqual(FAILED.map((i) => `file ${i}`));
    // A budget of 10,000 files a request: the scan of 25,000 takes three requests.
    expect(requests).toBe(3);
  });

  it('when many files match, then a page stops at its limit and the next one starts after it', async () => {
    const first = await page('status=queued&limit=150&include_transcript=false');
    expect(first.data.map((f) => f.index)).toEqual(Array.from({ length: 151 }, (_, i) => i).filter((i) => i !== 5));
    const second = await page(`status=queued&limit=2&include_transcript=false&cursor=${encodeURIComponent(first.next_cursor!)}`);
    expect(second.data.map((f) => f.index)).toEqual([151, 152]);
  });
});
