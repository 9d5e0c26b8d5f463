import { Counter, Histogram, type Registry } from 'prom-client';
import type { FileStatus, FoxapiRequestEvent } from '@batchscribe/shared';

/** How a webhook attempt ended; `retry` = failed, another attempt follows. */
export type WebhookDeliveryOutcome = 'delivered' | 'retry' | 'exhausted' | 'stopped' | 'stale';

const BATCH_OUTCOMES = ['completed', 'failed', 'cancelled'] as const;
const FILE_OUTCOMES: readonly FileStatus[] = ['completed', 'failed', 'cancelled'];
const AMBIGUOUS_ACTIONS = ['resubmitted', 'failed'] as const;
const WEBHOOK_OUTCOMES: readonly WebhookDeliveryOutcome[] = ['delivered', 'retry', 'exhausted', 'stopped', 'stale'];
const FOXAPI_ENDPOINTS = ['submit', 'get_task', 'download'] as const;

/**
 * The worker process's own metrics. One instance per runtime, registered on the registry the
 * composition root gives it. Known label values start at 0 so `rate()` sees the first event.
 */
export class WorkerMetrics {
  private readonly foxapiRequests: Counter<'endpoint' | 'status'>;
  private readonly foxapiDuration: Histogram<'endpoint' | 'status'>;
  private readonly foxapiRateLimited: Counter<'endpoint'>;
  private readonly backoffs: Histogram;
  private readonly batchesFinished: Counter<'outcome'>;
  private readonly filesFinished: Counter<'outcome'>;
  private readonly ambiguousSubmits: Counter<'action'>;
  private readonly webhookDeliveries: Counter<'outcome'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.foxapiRequests = new Counter({
      name: 'batchscribe_foxapi_requests_total',
      help: 'Requests to foxapi by endpoint and HTTP status (or timeout/network when no answer came).',
      labelNames: ['endpoint', 'status'],
      registers,
    });
    this.foxapiDuration = new Histogram({
      name: 'batchscribe_foxapi_request_duration_seconds',
      help: 'Duration of foxapi requests by endpoint and HTTP status.',
      labelNames: ['endpoint', 'status'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.foxapiRateLimited = new Counter({
      name: 'batchscribe_foxapi_rate_limited_total',
      help: 'foxapi answers 429 (too many requests) by endpoint.',
      labelNames: ['endpoint'],
      registers,
    });
    this.backoffs = new Histogram({
      name: 'batchscribe_foxapi_backoff_seconds',
      help: 'Back-offs all workers took after a foxapi 429: how long each held requests (Retry-After, else exponential).',
      buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    });
    this.batchesFinished = new Counter({
      name: 'batchscribe_batches_finished_total',
      help: 'Batches this worker finished, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.filesFinished = new Counter({
      name: 'batchscribe_files_finished_total',
      help: 'Files of the batches this worker finished, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.ambiguousSubmits = new Counter({
      name: 'batchscribe_ambiguous_submits_total',
      help: 'Submits that may or may not have created a foxapi task (timeout, 5xx, worker died mid-request), by what was done (SUBMIT_RETRY_AMBIGUOUS).',
      labelNames: ['action'],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'batchscribe_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome.',
      labelNames: ['outcome'],
      registers,
    });

    for (const endpoint of FOXAPI_ENDPOINTS) this.foxapiRateLimited.inc({ endpoint }, 0);
    for (const outcome of BATCH_OUTCOMES) this.batchesFinished.inc({ outcome }, 0);
    for (const outcome of FILE_OUTCOMES) this.filesFinished.inc({ outcome }, 0);
    for (const action of AMBIGUOUS_ACTIONS) this.ambiguousSubmits.inc({ action }, 0);
    for (const outcome of WEBHOOK_OUTCOMES) this.webhookDeliveries.inc({ outcome }, 0);
  }

  /** For FoxapiClient's `onRequestEnd`: an arrow so it can be passed as is. */
  readonly foxapiRequestEnded = (event: FoxapiRequestEvent): void => {
    const labels = { endpoint: event.route, status: event.status === null ? (event.errorKind ?? 'error') : String(event.status) };
    this.foxapiRequests.inc(labels);
    this.foxapiDuration.observe(labels, event.durationMs / 1000);
    if (event.status === 429) this.foxapiRateLimited.inc({ endpoint: event.route });
  };

  backedOff(delayMs: number): void {
    this.backoffs.observe(delayMs / 1000);
  }

  batchFinished(outcome: (typeof BATCH_OUTCOMES)[number], files: readonly FileStatus[]): void {
    this.batchesFinished.inc({ outcome });
    for (const status of files) this.filesFinished.inc({ outcome: status });
  }

  /** Files completed from earlier transcripts (reuse) before their batch was submitted; `batchEnded` when that left it nothing to send. */
  filesReused(files: number, batchEnded: boolean): void {
    if (files > 0) this.filesFinished.inc({ outcome: 'completed' }, files);
    if (batchEnded) this.batchesFinished.inc({ outcome: 'completed' });
  }

  ambiguousSubmit(action: (typeof AMBIGUOUS_ACTIONS)[number]): void {
    this.ambiguousSubmits.inc({ action });
  }

  webhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }
}
