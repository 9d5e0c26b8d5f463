import {
  compressJson,
  isFoxapiError,
  normalizeTranscription,
  type BatchRecord,
  type FileOutcome,
  type FileRecord,
  type FileOutcomeRecord,
} from '@batchscribe/shared';
import { backOffBatch } from './backoff.js';
import { done, later, type StepContext, type StepResult } from './step.js';

const DOWNLOAD_CONCURRENCY = 8;

/** A download that may work if tried again (the URLs live 24 h): retried by re-polling later. */
class TransientDownloadError extends Error {
  override readonly name = 'TransientDownloadError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

interface Collected {
  status: 'completed' | 'failed';
  raw: unknown;
  error?: { code: string; message: string };
}

async function collectOne(ctx: StepContext, outcome: FileOutcome): Promise<Collected> {
  if (outcome.kind === 'failed') return { status: 'failed', raw: undefined, error: { code: outcome.code, message: outcome.message } };
  let raw: unknown;
  if (outcome.kind === 'inline') {
    raw = outcome.transcription;
  } else {
    try {
      raw = await ctx.deps.foxapi.fetchJson(outcome.url, { log: ctx.log });
      ctx.deps.crash('mid-download');
    } catch (err) {
      if (isFoxapiError(err) && (err.kind === 'not_found' || err.kind === 'auth' || err.kind === 'invalid')) {
        return {
          status: 'failed',
          raw: undefined,
          error: { code: 'upstream_result_unavailable', message: `The transcript could not be downloaded (${err.status ?? err.kind}).` },
        };
      }
      throw new TransientDownloadError((err as Error).message, isFoxapiError(err) ? err.retryAfterMs : null);
    }
  }
  try {
    normalizeTranscription(raw);
    return { status: 'completed', raw };
  } catch (err) {
    // Keep what foxapi sent: `format=raw` still shows it, and an operator can see why.
    return { status: 'failed', raw, error: { code: 'upstream_unparsable_result', message: (err as Error).message.slice(0, 500) } };
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

/**
 * Downloads every transcript of a completed task at once (result URLs die after 24 h), stores
 * them compressed, then records every file's outcome and the batch's end in one atomic step.
 * Storing first makes a crash in between harmless: the replay downloads and overwrites.
 */
export async function collectResults(
  ctx: StepContext,
  rec: BatchRecord,
  files: FileRecord[],
  outcomes: FileOutcome[],
  rawTask: unknown,
): Promise<StepResult> {
  const { deps, log } = ctx;
  let collected: Collected[];
  try {
    collected = await mapLimited(outcomes, DOWNLOAD_CONCURRENCY, (o) => collectOne(ctx, o));
  } catch (err) {
    if (!(err instanceof TransientDownloadError)) throw err;
    const delayMs = await backOffBatch(ctx, rec, err.retryAfterMs);
    log.warn({ err: err.message, delayMs }, 'transcript download failed; retrying later');
    return later(delayMs, 'download failed');
  }

  const stored: Array<[number, Buffer]> = [];
  for (const [i, c] of collected.entries()) {
    if (c.raw !== undefined) stored.push([rec.files[i]!, await compressJson(c.raw)]);
  }
  await deps.store.storeTranscripts(rec.jobId, stored);
  if (collected.some((c) => c.error?.code === 'upstream_unparsable_result' || c.error?.code === 'upstream_missing_result')) {
    await deps.store.setBatchFields(rec.jobId, rec.batch, { raw_task: JSON.stringify(rawTask).slice(0, 1_000_000) });
  }

  const records: FileOutcomeRecord[] = collected.map((c, i) => {
    const record: FileRecord = { ...files[i]!, s: c.status, t: rec.taskId! };
    if (c.error) record.e = c.error;
    return { index: rec.files[i]!, record };
  });
  deps.crash('after-transcripts-stored');
  await deps.store.finish(rec.jobId, rec.batch, ['submitted'], 'completed', records);
  deps.crash('after-batch-finished');
  const failed = collected.filter((c) => c.status === 'failed').length;
  log.info({ completed: collected.length - failed, failed }, 'batch completed');
  return done;
}
