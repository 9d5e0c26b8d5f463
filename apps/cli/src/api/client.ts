import type { z } from 'zod';
import type { Connection } from '../config.js';
import { CliError } from '../errors.js';
import { httpErrorFrom, type HttpError } from './http-error.js';
import {
  jobPageSchema,
  jobSchema,
  resultPageSchema,
  schedulePageSchema,
  scheduleSchema,
  usageSchema,
  type Job,
  type JobPage,
  type ResultPage,
  type Schedule,
  type SchedulePage,
  type Usage,
} from './schemas.js';

export type TranscriptFormat = 'json' | 'txt' | 'srt' | 'vtt' | 'raw';

export interface ApiClientOptions extends Connection {
  fetch: typeof fetch;
  /** Per request, for everything but streams. Default 60 s. */
  timeoutMs?: number;
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Streams (SSE, NDJSON) have no overall deadline; the caller may pass its own signal. */
  stream?: boolean;
  signal?: AbortSignal;
}

/** The batchscribe HTTP API as the CLI uses it: every non-2xx becomes an HttpError. */
export class ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly opts: ApiClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Where and as whom it talks: the uploader speaks tus to the same server with the same token. */
  get connection(): Connection {
    const { baseUrl, urlSource, token, tokenSource } = this.opts;
    return { baseUrl, urlSource, token, tokenSource };
  }

  async submit(body: Record<string, unknown>, idempotencyKey?: string): Promise<{ job: Job; replayed: boolean }> {
    const res = await this.request('POST', '/v1/jobs', { body, headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });
    return { job: await this.parse(res, jobSchema), replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  async getJob(id: string): Promise<Job> {
    return this.parse(await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`), jobSchema);
  }

  async listJobs(query: { status?: string; limit?: number; cursor?: string }): Promise<JobPage> {
    return this.parse(await this.request('GET', '/v1/jobs', { query }), jobPageSchema);
  }

  async listResults(id: string, query: { status?: string; limit?: number; cursor?: string }): Promise<ResultPage> {
    return this.parse(await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/results`, { query }), resultPageSchema);
  }

  /** Every FileResult as NDJSON, streamed by the server in constant memory. */
  async openResultsNdjson(id: string): Promise<Response> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/results`, { headers: { accept: 'application/x-ndjson' }, stream: true });
  }

  async transcript(id: string, index: number, format: TranscriptFormat): Promise<string> {
    const res = await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/files/${index}/transcript`, { query: { format } });
    return res.text();
  }

  async cancel(id: string): Promise<Job> {
    return this.parse(await this.request('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`), jobSchema);
  }

  async retry(id: string): Promise<Job> {
    return this.parse(await this.request('POST', `/v1/jobs/${encodeURIComponent(id)}/retry`), jobSchema);
  }

  async deleteJob(id: string): Promise<void> {
    await this.drain(await this.request('DELETE', `/v1/jobs/${encodeURIComponent(id)}`));
  }

  async listSchedules(query: { limit?: number; cursor?: string }): Promise<SchedulePage> {
    return this.parse(await this.request('GET', '/v1/schedules', { query }), schedulePageSchema);
  }

  async getSchedule(id: string): Promise<Schedule> {
    return this.parse(await this.request('GET', `/v1/schedules/${encodeURIComponent(id)}`), scheduleSchema);
  }

  async createSchedule(body: Record<string, unknown>): Promise<Schedule> {
    return this.parse(await this.request('POST', '/v1/schedules', { body }), scheduleSchema);
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.drain(await this.request('DELETE', `/v1/schedules/${encodeURIComponent(id)}`));
  }

  /** Fires the schedule now; the Job it made. */
  async runSchedule(id: string): Promise<Job> {
    return this.parse(await this.request('POST', `/v1/schedules/${encodeURIComponent(id)}/run`), jobSchema);
  }

  async usage(query: { from?: string; to?: string }): Promise<Usage> {
    return this.parse(await this.request('GET', '/v1/usage', { query }), usageSchema);
  }

  /** The job's Server-Sent Events; the raw response, so the watcher can decide what a failure means. */
  async openEvents(id: string, signal: AbortSignal): Promise<Response> {
    return this.send('GET', `/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: { accept: 'text/event-stream' },
      stream: true,
      signal,
    });
  }

  /** A non-2xx answer as the error to show; a refused token names where it came from. */
  async errorFrom(res: Response): Promise<HttpError> {
    return httpErrorFrom(res, { 401: `check the token from ${this.opts.tokenSource}` });
  }

  private async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const res = await this.send(method, path, options);
    if (!res.ok) throw await this.errorFrom(res);
    return res;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const url = new URL(this.opts.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'batchscribe-cli', ...options.headers };
    headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const signal = options.signal ?? (options.stream ? undefined : AbortSignal.timeout(this.timeoutMs));
    try {
      return await this.opts.fetch(url, { method, headers, body, signal });
    } catch (err) {
      throw this.networkError(err, signal);
    }
  }

  private networkError(err: unknown, signal: AbortSignal | undefined): CliError {
    if (signal?.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError') {
      return new CliError(`no answer from ${this.opts.baseUrl} within ${Math.round(this.timeoutMs / 1000)}s`, undefined, true);
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    const hint =
      this.opts.urlSource === 'default'
        ? 'no URL is set: give --url, set BATCHSCRIBE_URL, or store one with batchscribe config set url URL'
        : `check the URL from ${this.opts.urlSource}`;
    return new CliError(`cannot reach ${this.opts.baseUrl}: ${reason} (${hint})`, undefined, true);
  }

  /** Reads an answer without a body to its end, so the connection can be reused. */
  private async drain(res: Response): Promise<void> {
    await res.arrayBuffer().catch(() => undefined);
  }

  private async parse<S extends z.ZodType>(res: Response, schema: S): Promise<z.infer<S>> {
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`unexpected answer from ${this.opts.baseUrl}: not JSON (is it the batchscribe API?)`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(
        `unexpected answer from ${this.opts.baseUrl}: ${issue?.path.join('.') || '(body)'} ${issue?.message ?? 'is invalid'}`,
      );
    }
    return parsed.data;
  }
}
