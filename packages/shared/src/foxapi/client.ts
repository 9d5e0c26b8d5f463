import { Readable } from 'node:stream';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { FoxapiError, fromTransportError, isFoxapiError, isUnreachable } from './errors.js';
import { errorForStatus, parseJson, readBody } from './http.js';
import { multipartFile } from './multipart.js';
import { submitResponseSchema, taskResponseSchema, uploadedFileSchema } from './schemas.js';
import type {
  FoxapiClientOptions,
  FoxapiRequestEvent,
  FoxapiRoute,
  SubmitRequest,
  SubmittedTask,
  TaskSnapshot,
  UploadedFile,
} from './types.js';

/** Idle sockets are kept this long; polls every few seconds then reuse one connection. */
const KEEP_ALIVE_MS = 30_000;
/** undici's default connect timeout; lowered to timeoutMs when that is shorter. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;
/**
 * An upload's deadline grows with its size: the usual timeout, plus the time the file takes at
 * this slowest pace we accept (1 MiB/s: 2 GB in about 35 minutes).
 */
const UPLOAD_MIN_BYTES_PER_S = 1024 * 1024;
/** Result URLs (OSS, CDN) may redirect; foxapi's own endpoints are never followed. */
const MAX_DOWNLOAD_REDIRECTS = 5;

interface Call {
  route: FoxapiRoute;
  method: 'GET' | 'POST';
  url: string;
  /** Only foxapi's own endpoints get the key: result URLs may point anywhere (docs/upstream.md, "Result entries"). */
  authorized: boolean;
  body?: string | { contentType: string; length: number; stream: AsyncIterable<Buffer> };
  /** The whole exchange's deadline; default timeoutMs. */
  deadlineMs?: number;
  taskId?: string;
  /** Largest answer read; default MAX_BODY_BYTES. */
  maxBytes?: number;
  /** Hand back the bytes without requiring JSON. */
  unparsed?: boolean;
  /** The access check: a 404 is the expected answer, not a failure worth a warning. */
  expectsNotFound?: boolean;
}

/** A task id that cannot exist: asking for it costs nothing and proves the key (404) or not (401). */
const ACCESS_CHECK_TASK_ID = 'task-unified-0-batchscribe-access-check';

/**
 * The one client of foxapi (no other module speaks its wire format): submit a Paraformer task,
 * read it, download its results. Answers are zod-parsed; every failure is a FoxapiError.
 */
/** Per call: an abort signal, and the logger of what the call is for (a batch's, with its job and batch ids). */
export interface CallOptions {
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * The connection pool for foxapi calls: kept-alive sockets, and a connect timeout no longer than
 * a call's. A composition root makes it, hands it to FoxapiClient as `dispatcher`, and closes it.
 */
export function createFoxapiAgent(timeoutMs: number): Agent {
  return new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connect: { timeout: Math.min(MAX_CONNECT_TIMEOUT_MS, timeoutMs) } });
}

export class FoxapiClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly downloadDispatcher: Dispatcher;
  private readonly ownedAgent: Agent | null;
  private readonly logger: Logger | undefined;
  private readonly onRequestEnd: ((event: FoxapiRequestEvent) => void) | undefined;

  constructor(opts: FoxapiClientOptions) {
    if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive number, got ${opts.timeoutMs}`);
    }
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs;
    this.logger = opts.logger;
    this.onRequestEnd = opts.onRequestEnd;
    if (opts.dispatcher) {
      this.ownedAgent = null;
      this.dispatcher = opts.dispatcher;
    } else {
      this.ownedAgent = createFoxapiAgent(opts.timeoutMs);
      this.dispatcher = this.ownedAgent;
    }
    this.downloadDispatcher = this.dispatcher.compose(interceptors.redirect({ maxRedirections: MAX_DOWNLOAD_REDIRECTS }));
  }

  /** `POST /v1/audios/generations`. Before retrying a failure, see `isAmbiguousSubmitFailure`. */
  async submit(req: SubmitRequest, opts: CallOptions = {}): Promise<SubmittedTask> {
    const { status, json: raw } = await this.exchange(
      { route: 'submit', method: 'POST', url: `${this.baseUrl}/v1/audios/generations`, authorized: true, body: JSON.stringify(req) },
      opts,
    );
    const parsed = submitResponseSchema.safeParse(raw);
    if (!parsed.success) throw this.protocolError('submit', status, 'answer has no task id', parsed.error, opts);
    return {
      taskId: parsed.data.id,
      estimatedTimeS: parsed.data.task_info?.estimated_time ?? null,
      canCancel: parsed.data.task_info?.can_cancel ?? null,
      raw,
    };
  }

  /** `GET /v1/tasks/{id}?sync_upstream=true`: foxapi refreshes from upstream before answering (docs/upstream.md, "Task query"). */
  async getTask(taskId: string, opts: CallOptions = {}): Promise<TaskSnapshot> {
    const url = `${this.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}?sync_upstream=true`;
    const { status, json: raw } = await this.exchange({ route: 'get_task', method: 'GET', url, authorized: true, taskId }, opts);
    const parsed = taskResponseSchema.safeParse(raw);
    if (!parsed.success) throw this.protocolError('get_task', status, 'answer has no status', parsed.error, opts);
    const task = parsed.data;
    const error = task.error
      ? {
          code: textOf(task.error.code) ?? 'upstream_task_failed',
          message: textOf(task.error.message) ?? textOf(task.error.type) ?? 'upstream task failed',
        }
      : null;
    return {
      taskId: task.id ?? taskId,
      status: task.status,
      progress: task.progress ?? null,
      results: task.results ?? task.output?.results ?? null,
      error,
      raw,
    };
  }

  /**
   * `POST /v1/files/upload/stream`: sends one media file to foxapi's file API and returns where
   * foxapi keeps it (`url`, kept 72 h; docs/upstream.md, "File API"). The file streams through as
   * multipart/form-data with a Content-Length (`size` must be its exact length), never gathered
   * in memory. `autoCleanup` false asks foxapi to refuse (403) rather than evict older files when
   * its storage is full. A stream cannot be sent twice: on a retryable error the caller opens
   * the file again.
   */
  async uploadFile(
    file: Readable,
    filename: string,
    size: number,
    opts: CallOptions & { autoCleanup?: boolean } = {},
  ): Promise<UploadedFile> {
    const fields: Record<string, string> = { file_name: filename };
    if (opts.autoCleanup !== undefined) fields.auto_cleanup = String(opts.autoCleanup);
    const form = multipartFile({ fields, fileField: 'file', filename, file, size });
    const { status, json: raw } = await this.exchange(
      {
        route: 'upload',
        method: 'POST',
        url: `${this.baseUrl}/v1/files/upload/stream`,
        authorized: true,
        body: { contentType: form.contentType, length: form.length, stream: form.body },
        deadlineMs: this.timeoutMs + Math.ceil((size / UPLOAD_MIN_BYTES_PER_S) * 1000),
      },
      opts,
    );
    const parsed = uploadedFileSchema.safeParse(raw);
    if (!parsed.success) throw this.protocolError('upload', status, 'answer has no file id and url', parsed.error, opts);
    const { id, filename: storedAs, url, size: storedSize, created } = parsed.data;
    return { id, filename: storedAs, url, size: storedSize, created };
  }

  /**
   * GETs a result URL (`transcription_url` or `url`) and parses its JSON. Sends no Authorization:
   * the URL is pre-signed and may name any host (docs/upstream.md, "Downloading transcripts"). Follows redirects.
   */
  async fetchJson(url: string, opts: CallOptions = {}): Promise<unknown> {
    const { json } = await this.exchange({ route: 'download', method: 'GET', url, authorized: false }, opts);
    return json;
  }

  /**
   * GETs a result URL like `fetchJson` but hands back the bytes as received (content-encoding
   * undone), unparsed: the worker stores them as they are and judges them itself. An answer over
   * `maxBytes` is a `protocol` error, as is one that does not decode.
   */
  async download(url: string, opts: CallOptions & { maxBytes?: number } = {}): Promise<Buffer> {
    const call: Call = { route: 'download', method: 'GET', url, authorized: false, unparsed: true };
    if (opts.maxBytes !== undefined) call.maxBytes = opts.maxBytes;
    return (await this.exchange(call, opts)).bytes;
  }

  /**
   * The cheapest authenticated request: reads a task that cannot exist. foxapi answers 404 when
   * the key is good (resolves), 401 when it is not; no answer means foxapi is unreachable. Creates
   * nothing and costs nothing. Throws the FoxapiError otherwise.
   */
  async checkAccess(opts: CallOptions = {}): Promise<void> {
    const url = `${this.baseUrl}/v1/tasks/${ACCESS_CHECK_TASK_ID}`;
    try {
      await this.exchange({ route: 'get_task', method: 'GET', url, authorized: true, expectsNotFound: true }, opts);
    } catch (err) {
      if (isFoxapiError(err) && err.kind === 'not_found') return;
      throw err;
    }
  }

  /** Closes the client's own agent; an injected dispatcher belongs to its owner and stays open. */
  async close(): Promise<void> {
    await this.ownedAgent?.close();
  }

  /** One request with the overall deadline; returns the status, body and (unless `unparsed`) JSON of a 2xx answer. */
  private async exchange(call: Call, opts: CallOptions): Promise<{ status: number; bytes: Buffer; json: unknown }> {
    const started = performance.now();
    try {
      const answer = await this.send(call, opts.signal);
      const json = call.unparsed ? undefined : this.parseAnswer(call.route, answer.status, answer.bytes);
      this.report(call, answer.status, started, null, opts);
      return { ...answer, json };
    } catch (err) {
      const error = isFoxapiError(err) ? err : fromTransportError(err, call.route, hostOf(call.url));
      this.report(call, error.status, started, error, opts);
      throw error;
    }
  }

  /** A 2xx whose JSON lacks what we need. Logged here because `exchange` already reported success. */
  private protocolError(route: FoxapiRoute, status: number, what: string, cause: unknown, opts: CallOptions): FoxapiError {
    (opts.log ?? this.logger)?.warn({ route, status, kind: 'protocol' }, 'foxapi answer unreadable');
    return new FoxapiError({ kind: 'protocol', message: `${route}: ${what}`, status, cause });
  }

  /** A 2xx answer's JSON; a body that is not JSON is a `protocol` error (the call itself went through). */
  private parseAnswer(route: FoxapiRoute, status: number, bytes: Buffer): unknown {
    const json = parseJson(bytes.toString('utf8'));
    if (json === undefined) {
      throw new FoxapiError({ kind: 'protocol', message: `${route}: HTTP ${status} answer is not JSON`, status });
    }
    return json;
  }

  private async send(call: Call, signal: AbortSignal | undefined): Promise<{ status: number; bytes: Buffer }> {
    if (!isHttpUrl(call.url)) {
      throw new FoxapiError({ kind: 'invalid', message: `${call.route}: not an http(s) URL`, maybeReachedServer: false });
    }
    if (signal?.aborted) {
      throw new FoxapiError({
        kind: 'network',
        message: `${call.route}: aborted before sending`,
        maybeReachedServer: false,
        cause: signal.reason,
      });
    }
    // One controller carries both the overall deadline and the caller's abort, so the body read is bounded too.
    const controller = new AbortController();
    const deadline = new Error('deadline');
    const deadlineMs = call.deadlineMs ?? this.timeoutMs;
    const timer = setTimeout(() => controller.abort(deadline), deadlineMs);
    const forwardAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      const res = await request(call.url, {
        method: call.method,
        headers: this.headersFor(call),
        body: typeof call.body === 'object' ? Readable.from(call.body.stream, { objectMode: false }) : call.body,
        dispatcher: call.route === 'download' ? this.downloadDispatcher : this.dispatcher,
        // An upload's answer comes only once its whole body is sent.
        headersTimeout: deadlineMs,
        bodyTimeout: this.timeoutMs,
        signal: controller.signal,
      });
      const bytes = await readBody(res.body, res.headers['content-encoding'], call.route, call.maxBytes);
      if (res.statusCode < 200 || res.statusCode > 299) {
        throw errorForStatus(res.statusCode, res.headers, bytes.toString('utf8'), call.route);
      }
      return { status: res.statusCode, bytes };
    } catch (err) {
      if (isFoxapiError(err)) throw err;
      if (controller.signal.aborted) {
        const timedOut = controller.signal.reason === deadline;
        throw new FoxapiError({
          kind: timedOut ? 'timeout' : 'network',
          message: `${call.route}: ${timedOut ? `no complete answer within ${deadlineMs} ms` : 'aborted by caller'}`,
          cause: timedOut ? err : signal?.reason,
        });
      }
      throw fromTransportError(err, call.route, hostOf(call.url));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forwardAbort);
    }
  }

  private headersFor(call: Call): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (typeof call.body === 'string') headers['content-type'] = 'application/json';
    else if (call.body) {
      headers['content-type'] = call.body.contentType;
      headers['content-length'] = String(call.body.length);
    }
    if (call.authorized) headers.authorization = `Bearer ${this.apiKey}`;
    return headers;
  }

  /** Logs only route, method, path, status, duration and task id: never the key, never a (signed) query string. */
  private report(call: Call, status: number | null, started: number, error: FoxapiError | null, opts: CallOptions): void {
    const durationMs = Math.round(performance.now() - started);
    const fields = { route: call.route, method: call.method, path: pathOf(call.url), status, durationMs, taskId: call.taskId };
    const log = opts.log ?? this.logger;
    const expected = error !== null && call.expectsNotFound === true && error.kind === 'not_found';
    if (error && !expected) {
      const transport = error.status === null ? { code: error.errorCode, host: error.host, err: error.message } : {};
      log?.warn({ ...fields, kind: error.kind, upstreamCode: error.upstreamCode, ...transport }, 'foxapi request failed');
    } else log?.debug(fields, 'foxapi request');
    this.onRequestEnd?.({
      route: call.route,
      method: call.method,
      status,
      durationMs,
      errorKind: expected ? null : (error?.kind ?? null),
      unreachable: error !== null && isUnreachable(error),
      errorCode: error?.errorCode ?? null,
      host: hostOf(call.url),
    });
  }
}

function textOf(value: string | number | null | undefined): string | null {
  if (typeof value === 'number') return String(value);
  return value ? value : null;
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}
