import type cliProgress from 'cli-progress';
import { EtaEstimator, formatDuration } from './eta.js';
import type { CliIo } from './io.js';
import { BAR_GLYPHS, lineBar } from './progress.js';
import type { UploadTotals } from './uploads/uploader.js';

/** Shows the uploads of `submit PATH…` before the job exists. */
export interface UploadProgressReporter {
  update(totals: UploadTotals): void;
  /** Clears the live bar so the next line prints cleanly. */
  stop(): void;
}

type ProgressIo = Pick<CliIo, 'stderr' | 'now'>;

const BAR_WIDTH = 24;

/**
 * A live bar on a terminal; nothing otherwise (logs get the command's one line before and after
 * the uploads — a bar redrawn into a file is noise).
 */
export function createUploadProgress(io: ProgressIo, enabled: boolean): UploadProgressReporter {
  if (!enabled || !io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  return new UploadBar(io);
}

/** `████░░░░ 45.2 MB of 120 MB | 3 of 10 files | 12.3 MB/s | ETA 6s` */
export function uploadLine(totals: UploadTotals, rate: number | undefined, eta: string): string {
  const share = totals.bytes > 0 ? Math.min(1, totals.bytesSent / totals.bytes) : totals.files > 0 ? totals.filesDone / totals.files : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = BAR_GLYPHS.transcribed.repeat(filled) + BAR_GLYPHS.queued.repeat(BAR_WIDTH - filled);
  const speed = rate === undefined ? '' : ` | ${formatBytes(rate)}/s`;
  return `${bar} ${formatBytes(totals.bytesSent)} of ${formatBytes(totals.bytes)} | ${totals.filesDone} of ${totals.files} files uploaded${speed} | ETA ${eta}`;
}

/** Decimal units, as file managers show sizes: `980 B`, `45.2 MB`, `1.20 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

class UploadBar implements UploadProgressReporter {
  private readonly eta = new EtaEstimator();
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private firstSample: { at: number; bytes: number } | undefined;

  constructor(private readonly io: ProgressIo) {
    // Cleared once the uploads are done: the job's bar takes the line.
    this.bar = lineBar(io.stderr, { clearOnComplete: true });
  }

  update(totals: UploadTotals): void {
    const now = this.io.now();
    this.eta.add(now, totals.bytesSent, totals.bytes);
    // The speed counts this run's bytes only: what a resumed upload already had is not speed.
    this.firstSample ??= { at: now, bytes: totals.bytesSent };
    const elapsed = now - this.firstSample.at;
    const rate = elapsed >= 1000 ? ((totals.bytesSent - this.firstSample.bytes) / elapsed) * 1000 : undefined;
    const payload = { line: uploadLine(totals, rate, formatDuration(this.eta.secondsLeft(now))) };
    if (!this.started) {
      this.bar.start(totals.bytes, totals.bytesSent, payload);
      this.started = true;
      return;
    }
    this.bar.update(totals.bytesSent, payload);
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}
