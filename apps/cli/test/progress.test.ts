import { describe, expect, it } from '@jest/globals';
import { createProgressReporter, segmentedBar } from '../src/progress.js';
import { MemorySink, makeJob } from './fake-api.js';

const sink = (isTTY: boolean) => new MemorySink(isTTY, 200);

const at = (done: number, status = 'running') => makeJob({ status, counts: { total: 10, completed: done, queued: 10 - done } });

describe('progress without a terminal', () => {
  it('when updates come fast, then a line is printed on each status change and at most once per interval otherwise', () => {
    const stderr = sink(false);
    let now = 0;
    const progress = createProgressReporter({ stderr, now: () => now, progressIntervalMs: 5_000 }, true);
    progress.update(at(0, 'queued'));
    progress.update(at(0));
    now = 1_000;
    progress.update(at(2));
    now = 6_000;
    progress.update(at(5));
    now = 7_000;
    progress.update(at(6));
    now = 8_000;
    progress.update(at(10, 'completed'));
    const lines = stderr.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ queued · 0\/10 transcribed \(0%\) · 0 failed · 0 cancelled · 0 submitted · 10 queued · ETA --$/);
    expect(lines[1]).toMatch(/ running · 0\/10 transcribed \(0%\)/);
    expect(lines[2]).toMatch(/ running · 5\/10 transcribed \(50%\) · 0 failed · 0 cancelled · 0 submitted · 5 queued · ETA 6s$/);
  });

  it('when only submitted files move (a large job being handed to foxapi), then that is progress worth a line', () => {
    const stderr = sink(false);
    let now = 0;
    const progress = createProgressReporter({ stderr, now: () => now, progressIntervalMs: 5_000 }, true);
    const submitting = (submitted: number) =>
      makeJob({ status: 'running', counts: { total: 3000, completed: 0, submitted, queued: 3000 - submitted } });
    progress.update(submitting(0));
    now = 5_000;
    progress.update(submitting(400));
    now = 10_000;
    progress.update(submitting(400));
    const lines = stderr.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('0/3000 transcribed (0%) · 0 failed · 0 cancelled · 400 submitted · 2600 queued');
  });

  it('when a cancelling job has nothing transcribed, then it shows 0% and the cancelled files apart, whatever the Job’s progress says', () => {
    const stderr = sink(false);
    const progress = createProgressReporter({ stderr, now: () => 0, progressIntervalMs: 0 }, true);
    progress.update(makeJob({ status: 'cancelling', progress: 90, counts: { total: 10, completed: 0, cancelled: 9, submitted: 1 } }));
    expect(stderr.text).toMatch(/ cancelling · 0\/10 transcribed \(0%\) · 0 failed · 9 cancelled · 1 submitted · 0 queued · ETA/);
    expect(stderr.text).not.toContain('90%');
  });

  it('when progress is off, then nothing is written', () => {
    const stderr = sink(false);
    const progress = createProgressReporter({ stderr, now: () => 0, progressIntervalMs: 0 }, false);
    progress.update(at(1));
    progress.stop();
    expect(stderr.text).toBe('');
  });
});

describe('progress on a terminal', () => {
  it('when updated and stopped, then a bar with counts, status and ETA is drawn and its line ended', () => {
    const stderr = sink(true);
    let now = 0;
    const progress = createProgressReporter({ stderr, now: () => now, progressIntervalMs: 0 }, true);
    progress.update(at(0));
    now = 2_000;
    progress.update(at(4));
    progress.stop();
    expect(stderr.text).toContain(
      `${'█'.repeat(10)}${'░'.repeat(14)} 4/10 transcribed (40%) · 0 failed · 0 cancelled · 0 submitted · 6 queued | running | ETA 3s`,
    );
    expect(stderr.text.endsWith('\n')).toBe(true);
  });
});

describe('the segmented bar', () => {
  const counts = (c: Partial<Record<'completed' | 'failed' | 'cancelled' | 'submitted' | 'queued', number>>) => {
    const full = { completed: 0, failed: 0, cancelled: 0, submitted: 0, queued: 0, ...c };
    return { ...full, total: full.completed + full.failed + full.cancelled + full.submitted + full.queued };
  };

  it('when files are in every state, then it draws transcribed, failed or cancelled, submitted and queued in that order', () => {
    expect(segmentedBar(counts({ completed: 6, failed: 2, cancelled: 2, submitted: 6, queued: 8 }), 24)).toBe('██████xxxx▒▒▒▒▒▒░░░░░░░░');
  });

  it('when a large job is being submitted with nothing finished, then the submitted segment shows it moving', () => {
    expect(segmentedBar(counts({ submitted: 500, queued: 2500 }), 24)).toBe('▒▒▒▒░░░░░░░░░░░░░░░░░░░░');
  });

  it('when shares round, then the segments still fill exactly the width', () => {
    for (const c of [
      counts({ completed: 1, failed: 1, submitted: 1 }),
      counts({ completed: 1, queued: 2 }),
      counts({ cancelled: 7, queued: 0 }),
    ]) {
      expect([...segmentedBar(c, 10)]).toHaveLength(10);
    }
    expect(segmentedBar(counts({ cancelled: 7 }), 10)).toBe('xxxxxxxxxx');
  });
});
