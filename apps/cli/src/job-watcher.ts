import { createParser } from 'eventsource-parser';
import type { ApiClient } from './api/client.js';
import type { HttpError } from './api/http-error.js';
import { jobSchema, type Job } from './api/schemas.js';
import { isCliError } from './errors.js';
import { isTerminalStatus } from './exit-codes.js';

export interface WatchOptions {
  onJob: (job: Job) => void;
  sleep: (ms: number) => Promise<void>;
  /** Between two GETs when the event stream is unavailable. */
  pollIntervalMs: number;
  /** The server sends a heartbeat every 15 s; this long without a byte means the stream is dead. Default 45 s. */
  idleTimeoutMs?: number;
  /** Transient failures (network, 429, 5xx) in a row that polling rides out before giving up. Default 5. */
  maxTransientFailures?: number;
}

/**
 * Follows a job until it ends and returns its final state. Listens to
 * `GET /v1/jobs/{id}/events` (SSE); when the server has no such route, or the stream breaks
 * or stalls, carries on by polling `GET /v1/jobs/{id}`.
 */
export async function watchJob(client: ApiClient, id: string, opts: WatchOptions): Promise<Job> {
  const streamed = await followEvents(client, id, opts);
  return streamed ?? pollJob(client, id, opts);
}

/** The final Job from the stream's `end` event, or undefined when the caller should poll instead. */
async function followEvents(client: ApiClient, id: string, opts: WatchOptions): Promise<Job | undefined> {
  const controller = new AbortController();
  let res: Response;
  try {
    res = await client.openEvents(id, controller.signal);
  } catch {
    return undefined; // unreachable: polling reports it properly (or finds the server back)
  }
  if (!res.ok) {
    const error = await client.errorFrom(res);
    if (isFatal(error)) throw error;
    return undefined;
  }
  if (!res.body || !/text\/event-stream/i.test(res.headers.get('content-type') ?? '')) {
    controller.abort();
    return undefined;
  }

  let final: Job | undefined;
  let ended = false;
  const parser = createParser({
    onEvent: (event) => {
      if (event.event !== 'job' && event.event !== 'end') return;
      const job = parseJob(event.data);
      if (job) opts.onJob(job);
      if (event.event === 'end') {
        ended = true;
        final = job;
      }
    },
  });
  const idleMs = opts.idleTimeoutMs ?? 45_000;
  let idle = setTimeout(() => controller.abort(), idleMs);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), idleMs);
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (ended) break;
    }
  } catch {
    // the stream broke or stalled: polling takes over
  } finally {
    clearTimeout(idle);
    controller.abort();
  }
  return final && isTerminalStatus(final.status) ? final : undefined;
}

/** Problems polling would hit too: a job that does not exist (or is another tenant's), a bad token. */
function isFatal(error: HttpError): boolean {
  if (error.status === 401 || error.status === 403) return true;
  // A missing route is the server's generic 404 ("No route for GET …"); anything else is the job.
  return error.status === 404 && !/^no route/i.test(error.detail);
}

function parseJob(data: string): Job | undefined {
  try {
    const parsed = jobSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function pollJob(client: ApiClient, id: string, opts: WatchOptions): Promise<Job> {
  const maxFailures = opts.maxTransientFailures ?? 5;
  let failures = 0;
  for (;;) {
    try {
      const job = await client.getJob(id);
      failures = 0;
      opts.onJob(job);
      if (isTerminalStatus(job.status)) return job;
    } catch (err) {
      if (!isCliError(err) || !err.transient || ++failures > maxFailures) throw err;
    }
    await opts.sleep(opts.pollIntervalMs * (failures > 0 ? Math.min(2 ** failures, 8) : 1));
  }
}
