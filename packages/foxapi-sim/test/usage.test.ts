import { afterEach, describe, expect, it } from '@jest/globals';
import { transcriptionFor } from '../src/index.js';
import { audio, json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

/** What the simulator should bill: speech of the given files, once per track, rounded up. */
function expectedBilled(urls: string[], channels = 1, minutes?: number): number {
  const speechMs = urls.reduce(
    (sum, url) => sum + (transcriptionFor(url, minutes).transcripts[0]?.content_duration_in_milliseconds ?? 0),
    0,
  );
  return Math.ceil((speechMs * channels) / 1000);
}

function sourceSeconds(urls: string[], minutes?: number): number {
  return urls.reduce((sum, url) => sum + transcriptionFor(url, minutes).properties.original_duration_in_milliseconds, 0) / 1000;
}

describe('usage in task answers and billing counters', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  async function usageOf(id: string): Promise<PolledTask['usage']> {
    return (await json<PolledTask>(await s.poll(id))).usage;
  }

  it('when a task runs, then usage has no duration; once completed, duration bills the transcribed speech', async () => {
    s = await startSim({ taskDurationMs: 1_000 });
    const urls = [audio('a.wav'), audio('b.wav')];
    const id = await s.submitTask(urls);

    const running = await usageOf(id);
    s.clock.advance(1_000);
    const done = await usageOf(id);

    expect(running).toEqual({ credits_reserved: 2, user_group: 'default' });
    expect(done).toEqual({ credits_reserved: 2, user_group: 'default', duration: expectedBilled(urls) });
    expect(done.duration).toBeGreaterThan(0);
  });

  it('when files fail, are missing or unreadable, then only the transcribed files are billed and counted', async () => {
    s = await startSim({ taskDurationMs: 0 });
    const urls = [audio('ok.wav'), audio('sim-fail.wav'), audio('sim-missing.wav'), audio('sim-garbage.wav')];
    const id = await s.submitTask(urls);

    const usage = await usageOf(id);
    const stats = s.sim.stats();

    expect(usage.duration).toBe(expectedBilled([audio('ok.wav')]));
    expect(stats.billedSeconds).toBe(usage.duration);
    expect(stats.audioSecondsTranscribed).toBe(sourceSeconds([audio('ok.wav')]));
    expect(stats.tasks[0]).toMatchObject({ audioSeconds: sourceSeconds([audio('ok.wav')]), billedSeconds: usage.duration });
  });

  it('when two tracks are requested, then each is billed', async () => {
    s = await startSim({ taskDurationMs: 0 });
    const urls = [audio('stereo.wav')];
    const id = await s.submitTask(urls, { channel_id: [0, 1] });

    expect((await usageOf(id)).duration).toBe(expectedBilled(urls, 2));
    expect(s.sim.stats().audioSecondsTranscribed).toBe(sourceSeconds(urls));
  });

  it('when a task fails, then it reports duration 0 and adds nothing to the counters', async () => {
    s = await startSim({ taskDurationMs: 0 });
    const id = await s.submitTask([audio('sim-task-fail.wav'), audio('ok.wav')]);

    const usage = await usageOf(id);

    expect(usage).toEqual({ credits_reserved: 2, user_group: 'default', duration: 0 });
    expect(s.sim.stats()).toMatchObject({ billedSeconds: 0, audioSecondsTranscribed: 0 });
    expect(s.sim.stats().tasks[0]?.billedSeconds).toBe(0);
  });

  it('when hour-long files complete across tasks, then the counters sum every completed task and skip running ones', async () => {
    s = await startSim({ taskDurationMs: 1_000, transcriptMinutes: 60 });
    const first = [audio('m1.wav'), audio('m2.wav')];
    const second = [audio('sim-minutes=30/m3.wav')];
    const ids = [await s.submitTask(first), await s.submitTask(second)];
    s.clock.advance(1_000);
    const late = await s.submitTask([audio('m4.wav')]);

    const durations = await Promise.all(ids.map(async (id) => (await usageOf(id)).duration ?? Number.NaN));
    const stats = s.sim.stats();

    expect(durations).toEqual([expectedBilled(first, 1, 60), expectedBilled(second, 1, 60)]);
    expect(stats.billedSeconds).toBe(durations[0]! + durations[1]!);
    expect(stats.audioSecondsTranscribed).toBe(3 * 3_600 - 1_800);
    // Speech is billed, not silence: less than the source, more than three quarters of it.
    expect(stats.billedSeconds).toBeLessThan(stats.audioSecondsTranscribed);
    expect(stats.billedSeconds).toBeGreaterThan(stats.audioSecondsTranscribed * 0.75);
    expect(stats.tasks.find((task) => task.id === late)).toMatchObject({ audioSeconds: 0, billedSeconds: null });
  });

  it('when the counters are read over HTTP and after a reset, then they match stats() and restart at 0', async () => {
    s = await startSim({ taskDurationMs: 0 });
    await usageOf(await s.submitTask([audio('a.wav')]));

    const overHttp = await json(await fetch(`${s.url}/__sim/stats`));
    await fetch(`${s.url}/__sim/reset`, { method: 'POST' });

    expect(overHttp).toMatchObject({
      billedSeconds: expectedBilled([audio('a.wav')]),
      audioSecondsTranscribed: sourceSeconds([audio('a.wav')]),
    });
    expect(s.sim.stats()).toMatchObject({ billedSeconds: 0, audioSecondsTranscribed: 0 });
  });
});
