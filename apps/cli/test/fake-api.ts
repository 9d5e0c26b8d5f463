import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../src/io.js';

/** A config directory that does not exist: in-process runs never read the user's real config file. */
export const NO_CONFIG_HOME = join(tmpdir(), 'bs-cli-test-no-config');

/** One request the CLI made to the fake API. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
}

export type Route = (req: Recorded) => Response | Promise<Response>;

/** A `fetch` answering from `route`, recording every request; unrouted requests are a 599 so a test sees them. */
export function fakeApi(route: Route): { fetch: typeof fetch; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = Object.fromEntries(
      Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const req: Recorded = { method: init?.method ?? 'GET', url: new URL(String(input)), headers, body, signal: init?.signal ?? undefined };
    requests.push(req);
    return route(req);
  }) as typeof fetch;
  return { fetch: fetchFn, requests };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function problem(status: number, type: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `https://batchscribe.dev/problems/${type}`, title: type, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}

/** An SSE response sending `events`, then closing (or staying open with `hold`), aborting with the request. */
export function sse(events: Array<{ event: string; data: unknown }>, opts: { hold?: boolean; signal?: AbortSignal } = {}): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(': connected\n\n'));
      for (const e of events) controller.enqueue(encoder.encode(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`));
      if (!opts.hold) controller.close();
      opts.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
    },
  });
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

type Counts = { total: number; queued: number; submitted: number; completed: number; failed: number; cancelled: number };

/**
 * The same fake API over real HTTP on 127.0.0.1, for CLI processes (the installed binary, a
 * run from another directory): answers from `route`, records every request.
 */
export async function serveFakeApi(route: Route): Promise<{ url: string; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const recorded: Recorded = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
        signal: undefined,
      };
      requests.push(recorded);
      const answer = await route(recorded);
      res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(599).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A Job as the API answers it; counts default to all of `total` completed. */
export function makeJob(
  overrides: Partial<{
    id: string;
    status: string;
    counts: Partial<Counts>;
    progress: number;
    error: { code: string; message: string } | null;
  }> = {},
) {
  const counts: Counts = { total: 3, queued: 0, submitted: 0, completed: 3, failed: 0, cancelled: 0, ...overrides.counts };
  const done = counts.completed + counts.failed + counts.cancelled;
  return {
    id: overrides.id ?? 'job_01jd0000000000000000000000',
    object: 'transcription.job',
    tenant: 'acme',
    status: overrides.status ?? 'completed',
    model: 'paraformer-v2',
    name: null,
    metadata: null,
    priority: 'interactive',
    callback_url: null,
    schedule_id: null,
    created_at: '2026-11-02T10:00:00.000Z',
    updated_at: '2026-11-02T10:00:05.000Z',
    finished_at: null,
    counts,
    batches: { total: 1, queued: 0, submitted: 0, completed: 1, failed: 0, cancelled: 0 },
    progress: overrides.progress ?? Math.floor((done / counts.total) * 100),
    error: overrides.error ?? null,
    webhook: null,
  };
}

/** A stream that keeps what is written to it, as a terminal (isTTY, columns) or not. */
export class MemorySink extends Writable {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns?: number,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** In-memory streams and an instant clock for `runCli`. */
export function memoryIo(overrides: Partial<CliIo> & { stdinText?: string } = {}) {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const { stdinText, ...rest } = overrides;
  const io: Partial<CliIo> = {
    stdin: Readable.from([Buffer.from(stdinText ?? '')]),
    stdout,
    stderr,
    env: { BATCHSCRIBE_URL: 'http://api.test', BATCHSCRIBE_TOKEN: 'tok', XDG_CONFIG_HOME: NO_CONFIG_HOME },
    sleep: async () => undefined,
    pollIntervalMs: 0,
    progressIntervalMs: 0,
    ...rest,
  };
  return { io, out: () => stdout.text, err: () => stderr.text };
}
