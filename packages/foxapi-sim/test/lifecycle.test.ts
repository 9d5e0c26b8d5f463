import { afterEach, describe, expect, it } from '@jest/globals';
import { audio, json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

describe('GET /v1/tasks/:id lifecycle', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  async function pollBody(taskId: string): Promise<PolledTask> {
    const res = await s.poll(taskId);
    expect(res.status).toBe(200);
    return json<PolledTask>(res);
  }

  it('when time passes, then the task goes pending → processing with rising progress → completed', async () => {
    s = await startSim({ taskDurationMs: 10_000 });
    const id = await s.submitTask([audio('a.wav')]);

    const atStart = await pollBody(id);
    s.clock.advance(3_000);
    const early = await pollBody(id);
    s.clock.advance(4_000);
    const later = await pollBody(id);
    s.clock.advance(3_000);
    const done = await pollBody(id);

    expect(atStart).toMatchObject({ id, status: 'pending', progress: 0, results: null });
    expect(early).toMatchObject({ status: 'processing', progress: 30, results: null });
    expect(later).toMatchObject({ status: 'processing', progress: 70, results: null });
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    expect(done.results).toHaveLength(1);
    expect(done).toMatchObject({
      object: 'audio.generation.task',
      type: 'audio',
      model: 'paraformer-v2',
      usage: { credits_reserved: 1, user_group: 'default' },
    });
    expect(done).not.toHaveProperty('error');
  });

  it('when the duration is a range, then each task draws within it and the estimate follows the draw', async () => {
    s = await startSim({ taskDurationMs: { min: 2_000, max: 9_000 } });
    for (let i = 0; i < 5; i++) await s.submitTask([audio(`${i}.wav`)]);

    for (const task of s.sim.stats().tasks) {
      const duration = task.doneAt - task.createdAt;
      expect(duration).toBeGreaterThanOrEqual(2_000);
      expect(duration).toBeLessThanOrEqual(9_000);
      expect(task.estimatedTimeS).toBe(Math.max(1, Math.round(duration / 1000)));
    }
  });

  it('when estimatedTimeNoise is set, then estimates stay within the noise band around the real duration', async () => {
    s = await startSim({ taskDurationMs: 100_000, estimatedTimeNoise: 0.5 });
    for (let i = 0; i < 20; i++) await s.submitTask([audio(`${i}.wav`)]);

    const estimates = s.sim.stats().tasks.map((task) => task.estimatedTimeS);
    for (const estimate of estimates) {
      expect(estimate).toBeGreaterThanOrEqual(50);
      expect(estimate).toBeLessThanOrEqual(150);
    }
    expect(new Set(estimates).size).toBeGreaterThan(1);
  });

  it('when a URL contains sim-task-fail, then the task ends failed with a task_error and no results', async () => {
    s = await startSim({ taskDurationMs: 1_000 });
    const id = await s.submitTask([audio('ok.wav'), audio('sim-task-fail.wav')]);
    s.clock.advance(1_000);

    const body = await pollBody(id);

    expect(body).toMatchObject({ status: 'failed', results: null });
    expect(body.error).toEqual({ code: 'generation_failed', message: expect.any(String), type: 'task_error' });
  });

  it('when a URL contains sim-never, then the task stays processing long after its duration', async () => {
    s = await startSim({ taskDurationMs: 1_000 });
    const id = await s.submitTask([audio('sim-never.wav')]);
    s.clock.advance(24 * 3_600_000);

    const body = await pollBody(id);

    expect(body).toMatchObject({ status: 'processing', progress: 99, results: null });
    expect(s.sim.stats().tasks[0]).toMatchObject({ status: 'processing', detectedAt: null });
  });

  it('when the task id is unknown, then it answers 404 not_found', async () => {
    s = await startSim();

    const res = await s.poll('task-unified-1700000000-zzzzzzzz');

    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: { message: expect.any(String), type: 'not_found' } });
  });

  it('when a task is polled, then stats count polls per task and detectedAt is the first terminal poll', async () => {
    s = await startSim({ taskDurationMs: 5_000 });
    const first = await s.submitTask([audio('a.wav')]);
    const second = await s.submitTask([audio('b.wav')]);

    await s.poll(first);
    s.clock.advance(6_000);
    await s.poll(first);
    const detectedAt = s.clock.now;
    s.clock.advance(1_000);
    await s.poll(first);
    await s.poll(second);

    const stats = s.sim.stats();
    expect(stats.polls).toBe(4);
    expect(stats.pollsByTask).toEqual({ [first]: 3, [second]: 1 });
    const firstStats = stats.tasks.find((task) => task.id === first);
    expect(firstStats).toMatchObject({ polls: 3, detectedAt, status: 'completed', files: 1 });
    expect(firstStats && firstStats.doneAt - firstStats.createdAt).toBe(5_000);
  });

  it('when the same seed is used twice, then task ids repeat exactly', async () => {
    s = await startSim({ seed: 42 });
    const firstRun = [await s.submitTask([audio('a.wav')]), await s.submitTask([audio('b.wav')])];
    s.sim.reset();
    const secondRun = [await s.submitTask([audio('a.wav')]), await s.submitTask([audio('b.wav')])];

    expect(secondRun).toEqual(firstRun);
    expect(new Set(firstRun).size).toBe(2);
  });
});
