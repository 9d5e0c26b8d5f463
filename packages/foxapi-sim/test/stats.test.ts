import { afterEach, describe, expect, it } from '@jest/globals';
import { createFoxapiSimulator } from '../src/index.js';
import { audio, json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

describe('simulator stats', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  it('when URLs are resubmitted across tasks, then submittedUrls and duplicateSubmissions count every repeat', async () => {
    s = await startSim();

    await s.submitTask([audio('a.wav'), audio('b.wav')]);
    await s.submitTask([audio('a.wav'), audio('a.wav')]);
    await s.submitTask([audio('c.wav')]);

    const stats = s.sim.stats();
    expect(stats.submissions).toBe(3);
    expect(stats.submittedUrls).toEqual({ [audio('a.wav')]: 3, [audio('b.wav')]: 1, [audio('c.wav')]: 1 });
    expect(stats.duplicateSubmissions).toBe(2);
  });

  it('when requests end in different statuses, then requests and byStatus cover every /v1 request only', async () => {
    s = await startSim({ taskDurationMs: 0 });

    const id = await s.submitTask([audio('a.wav')]);
    await s.submit([]);
    await fetch(`${s.url}/v1/tasks/${id}`);
    const polled = await json<PolledTask>(await s.poll(id));
    await fetch(String(polled.results?.[0]?.transcription_url));
    await fetch(`${s.url}/__sim/stats`);

    const stats = s.sim.stats();
    expect(stats.requests).toBe(4);
    expect(stats.byStatus).toEqual({ '200': 2, '401': 1, '422': 1 });
    expect(stats.downloads).toBe(1);
  });

  it('when stats are read over HTTP, then they match stats()', async () => {
    s = await startSim();
    await s.submitTask([audio('a.wav')]);

    const overHttp = await json(await fetch(`${s.url}/__sim/stats`));

    expect(overHttp).toEqual(JSON.parse(JSON.stringify(s.sim.stats())));
  });

  it('when 200 tasks of 100 files each are submitted and polled to completion, then stats stay exact', async () => {
    s = await startSim({ taskDurationMs: 1_000 });
    const ids: string[] = [];
    for (let t = 0; t < 200; t++) {
      ids.push(await s.submitTask(Array.from({ length: 100 }, (_, f) => audio(`t${t}-f${f}.wav`))));
    }
    s.clock.advance(1_000);

    let entries = 0;
    for (const id of ids) entries += (await json<PolledTask>(await s.poll(id))).results?.length ?? 0;

    const stats = s.sim.stats();
    expect(entries).toBe(20_000);
    expect(Object.keys(stats.submittedUrls)).toHaveLength(20_000);
    expect(stats).toMatchObject({ submissions: 200, polls: 200, duplicateSubmissions: 0 });
    expect(stats.tasks.every((task) => task.status === 'completed' && task.detectedAt !== null)).toBe(true);
  });
});

describe('mounting and closing', () => {
  it('when the app is mounted under a path in another server, then links include that path', async () => {
    const { default: express } = await import('express');
    const sim = createFoxapiSimulator({ taskDurationMs: 0 });
    const host = express();
    host.use('/fox', sim.app);
    const server = host.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const base = `http://127.0.0.1:${port}/fox`;
    try {
      const submit = await fetch(`${base}/v1/audios/generations`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-sim', 'content-type': 'application/json' },
        body: JSON.stringify({ file_urls: [audio('a.wav')] }),
      });
      const { id } = await json<{ id: string }>(submit);
      const polled = await json<PolledTask>(await fetch(`${base}/v1/tasks/${id}`, { headers: { authorization: 'Bearer sk-sim' } }));
      const link = String(polled.results?.[0]?.transcription_url);

      expect(link.startsWith(`${base}/transcriptions/`)).toBe(true);
      expect((await fetch(link)).status).toBe(200);
    } finally {
      await sim.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('when listen() is called twice, then the second call rejects; after close() it can listen again', async () => {
    const sim = createFoxapiSimulator();
    const first = await sim.listen();

    await expect(sim.listen()).rejects.toThrow(/already listening/);
    await sim.close();
    const second = await sim.listen();
    const health = await fetch(`${second.url}/healthz`);
    await sim.close();

    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(health.status).toBe(200);
  });
});
