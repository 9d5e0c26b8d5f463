import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import { makeJob } from './fake-api.js';

// A stand-in for the batchscribe api as far as `submit PATH…` and `results` go: a real tus
// server (@tus/server with the file store, as the api mounts it) at /v1/uploads behind Bearer
// auth, and just enough of /v1/jobs to see what the CLI sends — idempotency keys honoured,
// upload ids checked — and to serve transcripts back.

export const UPLOAD_TOKEN = 'tok-upload';

export interface CreatedJob {
  id: string;
  key: string | undefined;
  body: { files: Array<{ upload_id?: string; url?: string; ref?: string }> };
}

export interface UploadApi {
  url: string;
  jobs: CreatedJob[];
  /** Every POST /v1/jobs, replays included. */
  jobPosts: number;
  /** tus requests as the server saw them: method, upload id, Upload-Offset. */
  tusRequests: Array<{ method: string; id: string | undefined; offset: number | undefined }>;
  /** Upload id → filename and size, from the store. */
  upload(id: string): Promise<{ offset: number; size: number | undefined; filename: string | undefined }>;
  close(): Promise<void>;
}

export async function serveUploadApi(dir: string): Promise<UploadApi> {
  const store = new FileStore({ directory: dir });
  const tus = new TusServer({
    path: '/v1/uploads',
    datastore: store,
    relativeLocation: true,
    namingFunction: () => `upl_${randomBytes(12).toString('hex')}`,
    // As the api refuses a name foxapi would not take: here, any name with "refuse" in it.
    onUploadCreate: (_req, upload) => {
      if (upload.metadata?.filename?.includes('refuse'))
        throw { status_code: 415, body: JSON.stringify(problem('unsupported-media-type', 'This file is refused.')) };
      return Promise.resolve({});
    },
  });
  const jobs: CreatedJob[] = [];
  const api: UploadApi = {
    url: '',
    jobs,
    jobPosts: 0,
    tusRequests: [],
    upload: async (id) => {
      const upload = await store.getUpload(id);
      return { offset: upload.offset, size: upload.size, filename: upload.metadata?.filename ?? undefined };
    },
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    void route(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.headers.authorization !== `Bearer ${UPLOAD_TOKEN}`)
      return send(res, 401, problem('unauthorized', 'The bearer token is not valid.'));
    if (url.pathname.startsWith('/v1/uploads')) {
      const offset = req.headers['upload-offset'];
      api.tusRequests.push({
        method: req.method ?? '',
        id: url.pathname.split('/')[3],
        offset: offset === undefined ? undefined : Number(offset),
      });
      return tus.handle(req, res);
    }
    if (req.method === 'POST' && url.pathname === '/v1/jobs') {
      api.jobPosts++;
      const body = JSON.parse(await readText(req)) as CreatedJob['body'];
      const key = req.headers['idempotency-key'] as string | undefined;
      const earlier = key ? jobs.find((j) => j.key === key) : undefined;
      if (earlier) return send(res, 200, jobFor(earlier, 'queued'), { 'idempotent-replayed': 'true' });
      for (const [i, file] of body.files.entries()) {
        if (file.upload_id === undefined) continue;
        const upload = await store.getUpload(file.upload_id).catch(() => undefined);
        if (!upload || upload.offset !== upload.size)
          return send(res, 422, {
            ...problem('validation-error', 'The job is invalid.'),
            errors: [{ path: `files.${i}.upload_id`, message: 'is not a ready upload' }],
          });
      }
      const job: CreatedJob = { id: `job_${randomBytes(13).toString('hex')}`, key, body };
      jobs.push(job);
      return send(res, 202, jobFor(job, 'queued'));
    }
    const match = /^\/v1\/jobs\/(job_[0-9a-f]+)(\/.*)?$/.exec(url.pathname);
    const job = match ? jobs.find((j) => j.id === match[1]) : undefined;
    if (!match || !job) return send(res, 404, problem('not-found', `No job ${url.pathname}.`));
    if (match[2] === undefined) return send(res, 200, jobFor(job, 'completed'));
    if (match[2] === '/results') {
      const data = job.body.files.map((f, index) => ({
        index,
        file_url: f.url ?? null,
        upload_id: f.upload_id ?? null,
        filename: null,
        ref: f.ref ?? null,
        status: 'completed',
        error: null,
      }));
      return send(res, 200, { data, next_cursor: null });
    }
    const transcript = /^\/files\/(\d+)\/transcript$/.exec(match[2]);
    if (transcript) {
      const file = job.body.files[Number(transcript[1])];
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(`1\n00:00:00,000 --> 00:00:01,500\n${file?.ref ?? file?.url}\n`);
    }
    return send(res, 404, problem('not-found', `No route for ${req.method} ${url.pathname}.`));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}

function jobFor(job: CreatedJob, status: string) {
  const n = job.body.files.length;
  const done = status === 'completed';
  return makeJob({ id: job.id, status, counts: { total: n, completed: done ? n : 0, queued: done ? 0 : n } });
}

function problem(type: string, detail: string) {
  return { type: `https://batchscribe.dev/problems/${type}`, title: type, status: 0, detail };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One request through the proxy: its method, path, Upload-Offset, and the body bytes forwarded. */
export interface ProxiedRequest {
  method: string;
  path: string;
  offset: number | undefined;
  bytes: number;
  /** The server's answer's status, once it answered (undefined: cut off before an answer). */
  status: number | undefined;
  /** The request to the server has ended (answered, or cut off after the client was gone). */
  closed: boolean;
}

/**
 * An HTTP proxy in front of `target` that forwards request bodies at `bytesPerSecond` (null:
 * at full speed) and records every request, so a test can stop a client in the middle of an
 * upload and see where the next run starts. The Host header is forwarded as given: upload URLs
 * the server builds point back at the proxy.
 */
export async function startThrottleProxy(target: string) {
  const targetUrl = new URL(target);
  const requests: ProxiedRequest[] = [];
  const state = { bytesPerSecond: null as number | null, openPatches: 0, maxOpenPatches: 0 };
  const server = createServer((req, res) => {
    const offset = req.headers['upload-offset'];
    const record: ProxiedRequest = {
      method: req.method ?? '',
      path: req.url ?? '/',
      offset: offset === undefined ? undefined : Number(offset),
      bytes: 0,
      status: undefined,
      closed: false,
    };
    requests.push(record);
    if (record.method === 'PATCH') {
      state.openPatches++;
      state.maxOpenPatches = Math.max(state.maxOpenPatches, state.openPatches);
      res.once('close', () => state.openPatches--);
    }
    const upstream = httpRequest(
      { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.on('close', () => (record.closed = true));
    // The client gone (killed) mid-body: the server must see the upload cut off, as it would.
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    const throttle = new Transform({
      transform(chunk: Buffer, _enc, done) {
        void (async () => {
          // In small steps, so the bytes forwarded track the rate closely.
          for (let i = 0; i < chunk.length; i += 16_384) {
            const part = chunk.subarray(i, i + 16_384);
            const rate = state.bytesPerSecond;
            if (rate !== null) await new Promise((resolve) => setTimeout(resolve, (part.length / rate) * 1000));
            record.bytes += part.length;
            this.push(part);
          }
        })().then(() => done(), done);
      },
    });
    req.pipe(throttle).pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
