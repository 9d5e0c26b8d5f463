import type { Response } from 'express';
import type { Logger } from 'pino';
import { TERMINAL_JOB_STATUSES, type Job, type JobReader } from '@batchscribe/shared';
import type { JobEventsHub } from './job-events.hub.js';

export interface JobEventStreamOptions {
  /** Comment line sent this often so proxies and clients see a live connection; default 15 s. */
  heartbeatMs?: number;
  /** At most one `job` event per this interval (api.md: at most ~2/s); default 500 ms. */
  minIntervalMs?: number;
}

/**
 * One Server-Sent Events stream of one job. A change notice from the hub marks the stream
 * dirty; the job is read (one HGETALL) at most once per interval, and sent only if it differs
 * from what was sent last. The first event is the current state; the stream ends with the
 * final state as `job`, then as `end`.
 */
export function streamJobEvents(
  res: Response,
  deps: { jobId: string; tenant: string; reader: JobReader; hub: JobEventsHub; log: Logger },
  opts: JobEventStreamOptions = {},
): void {
  const minIntervalMs = opts.minIntervalMs ?? 500;
  let lastSentAt = 0;
  let lastBody = '';
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let dirty = false;
  let ended = false;

  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx and similar proxies buffer responses unless told not to: events would arrive in bursts.
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.flushHeaders();

  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    clearInterval(heartbeat);
    unwatch();
    res.end();
  };
  const send = (event: string, body: string) => res.write(`event: ${event}\ndata: ${body}\n\n`);

  const flush = async () => {
    if (ended) return;
    reading = true;
    dirty = false;
    try {
      const job = await deps.reader.getJob(deps.jobId, deps.tenant);
      if (ended) return;
      // Deleted or expired while watched: nothing more will come.
      if (!job) return end();
      const body = JSON.stringify(job);
      if (body !== lastBody) {
        send('job', body);
        lastBody = body;
        lastSentAt = Date.now();
      }
      if (isTerminal(job)) {
        send('end', body);
        end();
      }
    } catch (err) {
      deps.log.warn({ jobId: deps.jobId, err: (err as Error).message }, 'job events read failed');
      dirty = true;
    } finally {
      reading = false;
      if (dirty) schedule();
    }
  };

  function schedule(): void {
    dirty = true;
    if (ended || reading || timer) return;
    const wait = Math.max(0, lastSentAt + minIntervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, wait);
  }

  // Watch before the first read, so a change between the two is not missed.
  const unwatch = deps.hub.watch(deps.jobId, { changed: schedule, closed: end });
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
  res.on('close', end);
  void flush();
}

function isTerminal(job: Job): boolean {
  return TERMINAL_JOB_STATUSES.includes(job.status);
}
