import { describe, expect, it } from '@jest/globals';
import { createUploadProgress, formatBytes, uploadLine } from '../src/upload-progress.js';
import { MemorySink } from './fake-api.js';

const sink = (isTTY: boolean) => new MemorySink(isTTY, 200);

describe('the upload bar', () => {
  it('when half the bytes are sent, then half the bar is filled and the line says bytes, files, speed and time left', () => {
    const line = uploadLine({ files: 10, filesDone: 3, bytes: 120_000_000, bytesSent: 60_000_000 }, 12_300_000, '5s');
    expect(line).toBe('████████████░░░░░░░░░░░░ 60.0 MB of 120 MB | 3 of 10 files uploaded | 12.3 MB/s | ETA 5s');
  });

  it('when nothing is known of the speed yet, then it is left out', () => {
    expect(uploadLine({ files: 2, filesDone: 0, bytes: 1500, bytesSent: 0 }, undefined, '--')).toBe(
      '░░░░░░░░░░░░░░░░░░░░░░░░ 0 B of 1.50 kB | 0 of 2 files uploaded | ETA --',
    );
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [45_200_000, '45.2 MB'],
    [1_200_000_000, '1.20 GB'],
    [987_000_000_000, '987 GB'],
    [5e15, '5000 TB'],
  ])('formatBytes(%d) is %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it('when stderr is a terminal, then the bar is drawn and cleared at the end; when it is not, or progress is off, then nothing is written', () => {
    let now = 0;
    const tty = sink(true);
    const bar = createUploadProgress({ stderr: tty, now: () => now }, true);
    bar.update({ files: 2, filesDone: 0, bytes: 2_000_000, bytesSent: 0 });
    now = 2_000;
    bar.update({ files: 2, filesDone: 1, bytes: 2_000_000, bytesSent: 1_000_000 });
    bar.stop();
    expect(tty.text).toContain('1 of 2 files uploaded');
    for (const [stderr, enabled] of [
      [sink(false), true],
      [sink(true), false],
    ] as const) {
      const quiet = createUploadProgress({ stderr, now: () => now }, enabled);
      quiet.update({ files: 1, filesDone: 0, bytes: 10, bytesSent: 5 });
      quiet.stop();
      expect(stderr.text).toBe('');
    }
  });
});
