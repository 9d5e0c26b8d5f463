import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startMediaServer, type MediaServer } from './media-server.js';
import { json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

const FAILED_ENTRY = {
  code: 'InvalidFile.DownloadFailed',
  message: 'The audio file cannot be downloaded.',
  subtask_status: 'FAILED',
};

describe('fetchMedia', () => {
  let s: RunningSim;
  let media: MediaServer;
  afterEach(async () => {
    await s.close();
    await media.close();
  });

  /** Polls in real time (the fetches are real) until the task ends. */
  async function pollToEnd(id: string): Promise<PolledTask> {
    for (let attempt = 0; attempt < 250; attempt++) {
      const body = await json<PolledTask>(await s.poll(id));
      if (body.status === 'completed' || body.status === 'failed') return body;
      await sleep(20);
    }
    throw new Error(`task ${id} did not end`);
  }

  it('when on, then URLs answering 200 or 206 are transcribed and 404 or 403 ones fail with InvalidFile.DownloadFailed', async () => {
    media = await startMediaServer();
    s = await startSim({ taskDurationMs: 0, fetchMedia: true });
    const urls = ['/ok/a.wav', '/range/b.wav', '/missing/c.wav', '/private/d.wav'].map((path) => `${media.url}${path}`);

    const task = await pollToEnd(await s.submitTask(urls));

    expect(task.status).toBe('completed');
    expect(task.results).toEqual([
      expect.objectContaining({ file_url: urls[0], subtask_status: 'SUCCEEDED' }),
      expect.objectContaining({ file_url: urls[1], subtask_status: 'SUCCEEDED' }),
      { file_url: urls[2], ...FAILED_ENTRY },
      { file_url: urls[3], ...FAILED_ENTRY },
    ]);
    expect(media.requests.map((r) => r.range)).toEqual(Array(4).fill('bytes=0-1023'));
    const stats = s.sim.stats();
    expect(stats).toMatchObject({ mediaFetches: 4, mediaFetchFailures: 2 });
    // Only the two readable files are billed and counted.
    const billedAlone = await billedFor(urls.slice(0, 2));
    expect(stats.tasks[0]?.billedSeconds).toBe(billedAlone);
  });

  async function billedFor(urls: string[]): Promise<number> {
    const other = await startSim({ taskDurationMs: 0 });
    try {
      const task = await json<PolledTask>(await other.poll(await other.submitTask(urls)));
      return task.usage.duration ?? Number.NaN;
    } finally {
      await other.close();
    }
  }

  it('when off (the default), then no URL is fetched and every file is transcribed', async () => {
    media = await startMediaServer();
    s = await startSim({ taskDurationMs: 0 });
    const urls = [`${media.url}/ok/a.wav`, `${media.url}/missing/c.wav`];

    const task = await json<PolledTask>(await s.poll(await s.submitTask(urls)));

    expect(task.results?.map((entry) => entry.subtask_status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(media.requests).toHaveLength(0);
    expect(s.sim.stats().mediaFetches).toBe(0);
  });

  it('when a URL does not answer in time, then its file fails and the task stays processing until then', async () => {
    media = await startMediaServer();
    s = await startSim({ taskDurationMs: 0, fetchMedia: true, fetchMediaTimeoutMs: 300 });
    const id = await s.submitTask([`${media.url}/slow/a.wav`, `${media.url}/ok/b.wav`]);

    const early = await json<PolledTask>(await s.poll(id));
    const task = await pollToEnd(id);

    expect(early).toMatchObject({ status: 'processing', progress: 99, results: null });
    expect(task.results?.[0]).toEqual({ file_url: `${media.url}/slow/a.wav`, ...FAILED_ENTRY });
    expect(task.results?.[1]).toMatchObject({ subtask_status: 'SUCCEEDED' });
  });

  it('when nothing listens at a URL, then its file fails', async () => {
    media = await startMediaServer();
    const closedPort = new URL(media.url);
    await media.close();
    s = await startSim({ taskDurationMs: 0, fetchMedia: true });

    const task = await pollToEnd(await s.submitTask([`${closedPort.origin}/ok/a.wav`]));

    expect(task.results).toEqual([{ file_url: `${closedPort.origin}/ok/a.wav`, ...FAILED_ENTRY }]);
    media = await startMediaServer();
  });

  it('when a batch repeats a URL, then it is fetched once and both files share its outcome', async () => {
    media = await startMediaServer();
    s = await startSim({ taskDurationMs: 0, fetchMedia: true });
    const url = `${media.url}/missing/a.wav`;

    const task = await pollToEnd(await s.submitTask([url, url]));

    expect(task.results).toEqual([
      { file_url: url, ...FAILED_ENTRY },
      { file_url: url, ...FAILED_ENTRY },
    ]);
    expect(media.requests).toHaveLength(1);
  });

  it('when a file uploaded to the simulator is submitted, then its own upload url passes the fetch', async () => {
    media = await startMediaServer();
    s = await startSim({ taskDurationMs: 0, fetchMedia: true });
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(4096, 1)]), 'call.wav');
    const upload = await json<{ url: string }>(await s.api('/v1/files/upload/stream', { method: 'POST', body: form }));

    const task = await pollToEnd(await s.submitTask([upload.url, `${s.url}/uploads/file-gone/x.wav`]));

    expect(task.results?.map((entry) => entry.subtask_status)).toEqual(['SUCCEEDED', 'FAILED']);
  });
});
