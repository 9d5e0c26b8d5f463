const WINDOW = 30;

/**
 * Estimates the time left from how fast files finish: the rate over the last few samples,
 * measured up to now, so a stall makes the estimate grow instead of freezing it. Starts over
 * when the work shrinks or grows (a retry puts failed files back in the queue).
 */
export class EtaEstimator {
  private samples: Array<{ at: number; done: number }> = [];
  private total = 0;

  add(at: number, done: number, total: number): void {
    const last = this.samples.at(-1);
    if (total !== this.total || (last && done < last.done)) this.samples = [];
    this.total = total;
    if (last && last.done === done && this.samples.length > 0) return;
    this.samples.push({ at, done });
    if (this.samples.length > WINDOW) this.samples.shift();
  }

  /** Seconds left, or undefined until there are two samples with progress between them. */
  secondsLeft(now: number): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.done <= first.done || now <= first.at) return undefined;
    const perMs = (last.done - first.done) / (now - first.at);
    return Math.ceil((this.total - last.done) / perMs / 1000);
  }
}

/** `45s`, `3m 05s`, `2h 10m`; `--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
