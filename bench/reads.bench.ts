import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createFoxapiSimulator } from '@batchscribe/foxapi-sim';
import type { Job } from '@batchscribe/shared';
import { freePort } from '../scripts/lib/local-redis.js';
import { BENCH_TOKEN, JobWriter, LEAN_API_ENV, benchUrls, jobWallMs, startApi, startWorkers } from './lib/bench-stack.js';
import { dropPrefix, type BenchRedis } from './lib/bench-redis.js';
import { MB, median } from './lib/figures.js';
import { result, type BenchResult } from './lib/results.js';
import { ARTIFACTS_DIR, ServiceProcess, waitForHttp } from './lib/service-process.js';

const FILES = 100_000;
const PREFIX = 'bench-reads';
/** autocannon: 50 connections as the issue says; 5 s per run instead of 10 (time budget), each side twice, alternating. */
const CONNECTIONS = 50;
const DURATION_S = 5;
const ROUNDS = 2;

const auth = { authorization: `Bearer ${BENCH_TOKEN}` };

interface Cannon {
  rps: number;
  p99: number;
  errors: number;
}

async function cannon(url: string): Promise<Cannon> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers: auth });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** Reads a job's whole NDJSON export as a client would, counting its lines and bytes. */
async function streamExport(apiUrl: string, jobId: string): Promise<{ lines: number; bytes: number }> {
  const res = await fetch(`${apiUrl}/v1/jobs/${jobId}/results`, { headers: { ...auth, accept: 'application/x-ndjson' } });
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body!) {
    bytes += chunk.byteLength;
    for (const byte of chunk) if (byte === 0x0a) lines++;
  }
  return { lines, bytes };
}

/**
 * Benchmarks 4 and 5 on one 100,000-file job (posted to the api, then processed by two
 * workers against the simulator; its end-to-end figure is reported too).
 * Read path: GET /v1/jobs/{id} under autocannon against a bare Express route answering a
 * same-size constant JSON, alternating. Export: the NDJSON stream of every result from a fresh
 * api process, lines per second and that process's RSS.
 */
export async function readsBench(redis: BenchRedis): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  let api = await startApi(redis.url, PREFIX, 'api-reads');
  // Transcripts inline in the poll answer (one of foxapi's three result shapes): the same stored
  // data without 100,000 downloads, to keep the suite's run time down.
  const sim = createFoxapiSimulator({ taskDurationMs: 0, resultShape: 'inline' });
  const { url: simUrl } = await sim.listen(0);
  let bare: ServiceProcess | undefined;
  let workers: ServiceProcess[] = [];
  try {
    const posted = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ file_urls: benchUrls(FILES, 'reads') }),
    });
    const created = (await posted.json()) as Job;
    if (posted.status !== 202) throw new Error(`intake answered ${posted.status}`);

    // Read path, while the job is queued (GET is O(1) in the job's size, whatever its state).
    const jobUrl = `${api.url}/v1/jobs/${created.id}`;
    const jobBody = await (await fetch(jobUrl, { headers: auth })).text();
    const bodyFile = join(ARTIFACTS_DIR, 'bare-body.json');
    writeFileSync(bodyFile, jobBody);
    const barePort = await freePort();
    bare = ServiceProcess.start('bare-express', ['bench/lib/bare-express.server.mjs'], { BODY_FILE: bodyFile, PORT: String(barePort) });
    const bareUrl = `http://127.0.0.1:${barePort}/v1/jobs/${created.id}`;
    await waitForHttp(`http://127.0.0.1:${barePort}/healthz`, bare);
    await cannon(bareUrl); // warm-up of both, not counted
    await cannon(jobUrl);
    const runs: Record<'api' | 'bare', Cannon[]> = { api: [], bare: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.bare.push(await cannon(bareUrl));
      runs.api.push(await cannon(jobUrl));
    }
    await bare.stop();
    const readSettings = {
      connections: CONNECTIONS,
      durationS: DURATION_S,
      rounds: ROUNDS,
      warmUpRounds: 1,
      bodyBytes: jobBody.length,
      api: runs.api,
      bare: runs.bare,
      note: 'autocannon runs in the bench process on the same 2 cores as the server under test',
    };
    const apiAndBare = (pick: (c: Cannon) => number) => [median(runs.api.map(pick)), median(runs.bare.map(pick))] as const;
    results.push(
      result('read-path-throughput', ...apiAndBare((c) => c.rps), 'req/s', { ratioAtLeast: 0.6 }, readSettings),
      result('read-path-p99', ...apiAndBare((c) => c.p99), 'ms', { valueBelow: 20 }, readSettings),
    );

    // Process the job, so every file has a stored transcript to export.
    const writer = new JobWriter(redis.client, PREFIX);
    workers = await startWorkers(
      redis.url,
      PREFIX,
      simUrl,
      2,
      { FOXAPI_MAX_RPS: '1000', FOXAPI_MAX_INFLIGHT_TASKS: '1000' },
      'worker-reads',
    );
    const done = await writer.waitForEnd(created.id, 300_000);
    await writer.close();
    await Promise.all(workers.map((w) => w.stop()));
    results.push(
      result('pipeline-100k-throughput', FILES / (jobWallMs(done) / 1000), null, 'files/s', null, {
        how: 'the 100,000-file job from its 202 to its end: 2 workers, simulator with no latency, instant tasks and inline results, FOXAPI_MAX_RPS=1000, FOXAPI_MAX_INFLIGHT_TASKS=1000',
        wallS: Math.round(jobWallMs(done) / 1000),
        status: done.status,
        submissions: sim.stats().submissions,
        duplicateSubmissions: sim.stats().duplicateSubmissions,
      }),
    );

    // Export from a fresh api process, so its peak RSS is the export's.
    await api.proc.stop();
    api = await startApi(redis.url, PREFIX, 'api-export');
    const idle = api.proc.memory();
    const sampler = api.proc.sampleRss(50);
    const t0 = performance.now();
    const { lines, bytes } = await streamExport(api.url, created.id);
    const seconds = (performance.now() - t0) / 1000;
    const samples = sampler.stop();
    const peak = api.proc.memory();
    const exportSettings = {
      lines,
      seconds: Math.round(seconds * 10) / 10,
      bytes,
      idleRssMB: Math.round((idle?.rss ?? 0) / MB),
      rssMBAtQuarters: [0.25, 0.5, 0.75, 1].map((q) =>
        Math.round((samples[Math.min(samples.length - 1, Math.floor(q * samples.length) - 1)] ?? 0) / MB),
      ),
    };
    if (lines !== FILES) throw new Error(`export streamed ${lines} lines, expected ${FILES}`);

    // The same export from an api in the README's lean profile.
    await api.proc.stop();
    api = await startApi(redis.url, PREFIX, 'api-export-lean', LEAN_API_ENV);
    const { bytes: leanBytes } = await streamExport(api.url, created.id);
    if (leanBytes !== bytes) throw new Error(`lean export streamed ${leanBytes} bytes, expected ${bytes}`);
    const leanPeak = api.proc.memory();
    results.push(
      result('export-lines-per-second', lines / seconds, null, 'lines/s', null, exportSettings),
      result(
        'export-api-peak-rss',
        (peak?.peak ?? Number.NaN) / MB,
        null,
        'MB',
        { valueAtMost: 200 },
        { ...exportSettings, how: 'VmHWM of a fresh api process that served only this export' },
      ),
      result('export-api-peak-rss-lean', (leanPeak?.peak ?? Number.NaN) / MB, null, 'MB', null, {
        how: 'VmHWM of a fresh api process in the lean profile that served only the same export',
        env: LEAN_API_ENV,
      }),
    );
    return results;
  } finally {
    await bare?.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await api.proc.stop();
    await sim.close();
    await dropPrefix(redis.client, PREFIX);
  }
}
