import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BENCH_TOKEN, startApi } from './lib/bench-stack.js';
import { dropPrefix, type BenchRedis } from './lib/bench-redis.js';
import { MB } from './lib/figures.js';
import { result, type BenchResult } from './lib/results.js';

const PREFIX = 'bench-uploads';
const BIG = 768 * MB;
const SMALL = 16 * MB;
const auth = { authorization: `Bearer ${BENCH_TOKEN}`, 'tus-resumable': '1.0.0' };

/** `size` bytes made of one random MiB repeated, produced as they are sent (the bench holds 1 MiB, not the file). */
function fileOf(size: number): { stream: () => Readable; sha256: string } {
  const block = randomBytes(MB);
  const chunks = function* () {
    for (let at = 0; at < size; at += block.length) yield block.subarray(0, Math.min(block.length, size - at));
  };
  const hash = createHash('sha256');
  for (const c of chunks()) hash.update(c);
  return { stream: () => Readable.from(chunks()), sha256: hash.digest('hex') };
}

/** Creates an upload and sends it in one PATCH streamed from `file`; returns its id and the seconds the PATCH took. */
async function upload(api: string, size: number, file: ReturnType<typeof fileOf>): Promise<{ id: string; seconds: number }> {
  const created = await fetch(`${api}/v1/uploads`, {
    method: 'POST',
    headers: { ...auth, 'upload-length': String(size), 'upload-metadata': `filename ${Buffer.from('bench.wav').toString('base64')}` },
  });
  if (created.status !== 201) throw new Error(`creation answered ${created.status}: ${await created.text()}`);
  const path = created.headers.get('location')!;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = request(`${api}${path}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'content-length': String(size) },
    });
    req.on('response', (res) => {
      res.resume();
      if (res.statusCode === 204) resolve();
      else reject(new Error(`PATCH answered ${res.statusCode}`));
    });
    req.on('error', reject);
    pipeline(file.stream(), req).catch(reject);
  });
  return { id: path.split('/').pop()!, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Issue 13's memory figure: the api's peak RSS while one PATCH streams a 768 MB file into the
 * fs store, against its peak after a 16 MB one. The bytes go to disk as they come and the hash
 * is computed on the way, so the api must not grow with the file: target ratio ≤ 1.25.
 */
export async function uploadsBench(redis: BenchRedis): Promise<BenchResult[]> {
  const api = await startApi(redis.url, PREFIX, 'api-uploads', { UPLOAD_MAX_BYTES: String(BIG) });
  try {
    const small = fileOf(SMALL);
    await upload(api.url, SMALL, small);
    const afterSmall = api.proc.memory()?.peak ?? Number.NaN;
    const big = fileOf(BIG);
    const sampler = api.proc.sampleRss(20);
    const run = await upload(api.url, BIG, big);
    const samples = sampler.stop();
    const peak = api.proc.memory()?.peak ?? Math.max(...samples);
    const view = (await (await fetch(`${api.url}/v1/uploads/${run.id}`, { headers: auth })).json()) as { status: string; sha256: string };
    if (view.status !== 'ready' || view.sha256 !== big.sha256) throw new Error(`the big upload ended ${JSON.stringify(view)}`);
    // Termination takes the 768 MB off the disk again.
    await fetch(`${api.url}/v1/uploads/${run.id}`, { method: 'DELETE', headers: auth });
    return [
      result(
        'uploads-api-peak-rss-768mb',
        peak / MB,
        afterSmall / MB,
        'MB',
        { ratioAtMost: 1.25 },
        {
          fileMB: BIG / MB,
          baselineFileMB: SMALL / MB,
          peakRssMB: Math.round(peak / MB),
          peakAfterSmallMB: Math.round(afterSmall / MB),
          growthMB: Math.round((peak - afterSmall) / MB),
          store: 'fs',
          sha256Checked: true,
        },
      ),
      result('uploads-patch-throughput', BIG / MB / run.seconds, null, 'MB/s', null, {
        fileMB: BIG / MB,
        seconds: Math.round(run.seconds * 10) / 10,
      }),
    ];
  } finally {
    await api.proc.stop();
    await dropPrefix(redis.client, PREFIX);
  }
}
