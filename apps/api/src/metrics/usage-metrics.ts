import { Counter, type Registry } from 'prom-client';
import type { UsageStore, UsageTotals } from '@batchscribe/shared';

/**
 * Usage per tenant, read from Redis when Prometheus scrapes. The totals are written by the same
 * step that completes the files (usage-scripts.ts), so these counters agree with the Jobs and
 * `GET /v1/usage`, survive worker restarts (a sum of the workers' in-memory counters would drop
 * a stopped worker's share) and are never counted twice. They describe shared state, so only
 * the api exports them. One small hash per counter and scrape (a field per tenant and counter);
 * a failed read drops the series rather than repeat the last values.
 */
export function registerUsageMetrics(registry: Registry, usage: UsageStore): void {
  const counter = (name: string, help: string, pick: (t: UsageTotals) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['tenant'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const t of await usage.totals()) this.inc({ tenant: t.tenant }, pick(t));
        } catch {
          this.reset();
        }
      },
    });

  counter(
    'batchscribe_audio_seconds_total',
    "Seconds of audio transcribed, by tenant: the files' durations as upstream reports them.",
    (t) => t.audioSeconds,
  );
  counter('batchscribe_billed_seconds_total', 'Seconds foxapi reported as billed for the tasks, by tenant.', (t) => t.billedSeconds);
  counter(
    'batchscribe_reused_files_total',
    'Files completed from an earlier transcript, with no foxapi call, by tenant.',
    (t) => t.reusedFiles,
  );
}
