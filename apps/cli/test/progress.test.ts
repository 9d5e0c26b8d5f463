import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createProgressReporter } from '../src/progress.js';
import { makeJob } from './fake-api.js';

class Sink extends Writable {
  text = '';
  readonly columns = 200;
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const at = (done: number, status = 'running') => makeJob({ status, counts: { total: 10, completed: done, queued: 10 - done } });

describe('progress without a terminal', () => {
  it('when updates come fast, then a line is printed on each status change and at most once per interval otherwise', () => {
    const stderr = new Sink(false);
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
    expect(lines[0]).toMatch(/ queued 0% · 0\/10 files \(0 completed, 0 failed\) · ETA --$/);
    expect(lines[1]).toMatch(/ running 0% · 0\/10 files/);
    expect(lines[2]).toMatch(/ running 50% · 5\/10 files \(5 completed, 0 failed\) · ETA 6s$/);
  });

  it('when progress is off, then nothing is written', () => {
    const stderr = new Sink(false);
    const progress = createProgressReporter({ stderr, now: () => 0, progressIntervalMs: 0 }, false);
    progress.update(at(1));
    progress.stop();
    expect(stderr.text).toBe('');
  });
});

describe('progress on a terminal', () => {
  it('when updated and stopped, then a bar with counts, status and ETA is drawn and its line ended', () => {
    const stderr = new Sink(true);
    let now = 0;
    const progress = createProgressReporter({ stderr, now: () => now, progressIntervalMs: 0 }, true);
    progress.update(at(0));
    now = 2_000;
    progress.update(at(4));
    progress.stop();
    expect(stderr.text).toMatch(/4\/10 files \| 4 completed, 0 failed, 0 cancelled \| running \| ETA 3s/);
    expect(stderr.text.endsWith('\n')).toBe(true);
  });
});
