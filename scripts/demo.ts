/**
 * `pnpm demo`: the whole service on this machine, end to end. Gets a Redis, starts the foxapi
 * simulator, the api and a worker, submits a sample job with a callback URL, shows its
 * progress, receives and verifies the signed webhook, prints one transcript; then transcribes
 * a folder of recordings from disk (tiny WAVs it writes itself) with the CLI's `submit PATH`,
 * its upload bar and `results --out`, and prints the folder of SRT files it got. Exits 0 — or
 * says plainly what is missing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFoxapiSimulator } from '@batchscribe/foxapi-sim';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { freePort, redisServerAvailable, startLocalRedis, type LocalRedis } from './lib/local-redis.js';
import { REPO_ROOT, spawnTs, stopProcess } from './lib/processes.js';
import { wav } from './lib/wav.js';

const TOKEN = 'demo-token';
const FILES = 300;
/** Share of files the simulator fails (as a real upstream does now and then), to show per-file errors. */
const FAIL_RATE = 0.01;
/** The demo's meeting archive on disk: path → seconds of (noise) audio. A non-media file is skipped by the CLI. */
const ARCHIVE: Record<string, number> = {
  '2026/11/standup.wav': 3,
  '2026/11/design-review.wav': 2,
  '2026/12/planning.wav': 4,
  'calls/customer-call.wav': 2,
  'calls/notes.txt': 0,
};

function say(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function getRedis(): Promise<{ url: string; local?: LocalRedis }> {
  const given = process.env.REDIS_URL;
  if (given) {
    if (await redisAnswers(given)) return { url: given };
    throw new Error(`REDIS_URL=${given} does not answer. Start that Redis, or unset REDIS_URL to let the demo start its own.`);
  }
  if (!redisServerAvailable()) {
    throw new Error(
      'No Redis: set REDIS_URL, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run `docker compose up redis`.',
    );
  }
  const local = await startLocalRedis({ appendOnly: true });
  return { url: local.url, local };
}

interface ReceivedWebhook {
  type: string;
  jobId: string;
  status: string;
}

/**
 * What a caller's service would run: an HTTP endpoint that checks each webhook's Standard
 * Webhooks signature with the shared secret (the `standardwebhooks` package) before trusting it.
 */
async function startWebhookReceiver(secret: string): Promise<{ url: string; received: Promise<ReceivedWebhook>; server: Server }> {
  const verifier = new Webhook(secret);
  let deliver: (hook: ReceivedWebhook) => void = () => undefined;
  const received = new Promise<ReceivedWebhook>((resolve) => (deliver = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as {
          type: string;
          data: { id: string; status: string };
        };
        res.writeHead(204).end();
        deliver({ type: payload.type, jobId: payload.data.id, status: payload.data.status });
      } catch (err) {
        say(`webhook    REJECTED: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/batchscribe`, received, server };
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

async function main(): Promise<void> {
  const redis = await getRedis();
  say(`redis      ${redis.url}${redis.local ? ' (started for the demo, AOF on)' : ''}`);
  const sim = createFoxapiSimulator({ taskDurationMs: { min: 2_000, max: 5_000 }, estimatedTimeNoise: 0.3, failRate: FAIL_RATE });
  const { url: simUrl } = await sim.listen(0);
  say(`foxapi sim ${simUrl}`);

  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = await startWebhookReceiver(webhookSecret);
  say(`webhooks   ${receiver.url} (verifies signatures)`);

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const prefix = `demo${Date.now().toString(36)}`;
  // Transcripts go to an fs blob store in a temporary directory that api and worker share.
  const dataDir = mkdtempSync(join(tmpdir(), 'batchscribe-demo-'));
  say(`blobs      ${dataDir} (BLOB_STORE=fs)`);
  // The demo's webhook receiver is on loopback, which the outbound policy refuses unless allowed.
  const common = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    WEBHOOK_SECRET: webhookSecret,
    BLOB_STORE: 'fs',
    DATA_DIR: dataDir,
    OUTBOUND_ALLOWED_NETS: '127.0.0.1/32',
  };
  const logs: string[] = [];
  const keep = (line: string) => {
    logs.push(line);
    if (logs.length > 200) logs.shift();
  };
  const api = spawnTs(
    'apps/api/src/main.ts',
    { ...common, PORT: String(apiPort), HOST: '127.0.0.1', API_KEYS: `demo:${TOKEN}` },
    { onLine: keep },
  );
  const worker = spawnTs(
    'apps/worker/src/main.ts',
    { ...common, FOXAPI_BASE_URL: simUrl, FOXAPI_API_KEY: 'sk-sim', POLL_MIN_MS: '500', POLL_MAX_MS: '3000', FOXAPI_MAX_RPS: '20' },
    { onLine: keep },
  );
  const children = [api, worker];
  // The meeting archive the CLI transcribes, with its cache and the SRT folder it writes.
  const archiveDir = mkdtempSync(join(tmpdir(), 'batchscribe-demo-archive-'));
  const cleanup = async () => {
    await Promise.all(children.map((c) => stopProcess(c)));
    await sim.close();
    receiver.server.close();
    await redis.local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(archiveDir, { recursive: true, force: true });
  };

  try {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    await waitUntil(async () => (await fetch(`${apiUrl}/readyz`)).ok, 30_000, 'the api and worker to become ready');
    say(`api        ${apiUrl} (ready; worker heartbeat seen)`);

    const fileUrls = Array.from(
      { length: FILES },
      (_, i) => `https://media.example.com/meetings/2026-11-${String((i % 28) + 1).padStart(2, '0')}/room-${i}.m4a`,
    );
    const res = await fetch(`${apiUrl}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'demo archive', file_urls: fileUrls, language_hints: ['en'], callback_url: receiver.url }),
    });
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
    const created = (await res.json()) as { id: string; batches: { total: number } };
    say(`submitted  ${created.id}: ${FILES} files in ${created.batches.total} batches\n`);

    let job: { status: string; progress: number; counts: Record<string, number> } | undefined;
    const started = Date.now();
    for (;;) {
      job = (await (await fetch(`${apiUrl}/v1/jobs/${created.id}`, { headers })).json()) as typeof job & object;
      const c = job.counts;
      const line = `${bar(c.completed! + c.failed! + c.cancelled!, c.total!)} ${String(job.progress).padStart(3)}%  ${job.status.padEnd(22)} queued ${c.queued} submitted ${c.submitted} completed ${c.completed} failed ${c.failed}`;
      process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
      if (['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(job.status)) break;
      if (Date.now() - started > 120_000) throw new Error('the sample job did not finish within 2 minutes');
      await sleep(process.stdout.isTTY ? 250 : 1_000);
    }
    say(`\n\njob ended ${job.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (job.counts.failed! > 0) await explainFailures(apiUrl, created.id, job.counts.failed!, headers);
    const hook = await within(30_000, receiver.received, 'no webhook arrived within 30 s of the job ending');
    if (hook.jobId !== created.id) throw new Error(`the webhook was about ${hook.jobId}, not ${created.id}`);
    say(`webhook    ${hook.type} for ${hook.jobId} (status ${hook.status}), signature verified`);

    const results = (await (await fetch(`${apiUrl}/v1/jobs/${created.id}/results?status=completed&limit=1`, { headers })).json()) as {
      data: Array<{ index: number; file_url: string }>;
    };
    const first = results.data[0];
    if (!first) throw new Error('no file was transcribed');
    const srt = await (await fetch(`${apiUrl}/v1/jobs/${created.id}/files/${first.index}/transcript?format=srt`, { headers })).text();
    say(`\ntranscript of file ${first.index} (${first.file_url}) as SRT:\n\n${srt}`);
    say(
      `stats      foxapi submissions ${sim.stats().submissions}, polls ${sim.stats().polls}, duplicate submissions ${sim.stats().duplicateSubmissions}`,
    );

    // From here on the simulator reads the start of every media URL it is given, as foxapi
    // does, and fails nothing on purpose: the archive's files must all come out.
    sim.configure({ failRate: 0, fetchMedia: true });
    await transcribeArchive(archiveDir, apiUrl);
  } catch (err) {
    process.stderr.write(`\ndemo failed: ${(err as Error).message}\nlast log lines:\n${logs.slice(-20).join('\n')}\n`);
    await cleanup();
    process.exit(1);
  }
  await cleanup();
  say('demo done');
}

/**
 * A meeting archive from disk through the CLI, as a user would run it: `batchscribe submit
 * meetings/ --wait` uploads each recording (tus, resumable) under one bar, makes the job and
 * follows it; `results --format srt --out` writes the subtitles in the folders the recordings
 * were in. The worker hands each file to foxapi's file API (MEDIA_HANDOFF=foxapi with BLOB_STORE=fs).
 */
async function transcribeArchive(root: string, apiUrl: string): Promise<void> {
  const meetings = join(root, 'meetings');
  for (const [path, seconds] of Object.entries(ARCHIVE)) {
    mkdirSync(dirname(join(meetings, path)), { recursive: true });
    writeFileSync(join(meetings, path), seconds > 0 ? wav(seconds, path.length) : 'agenda: none\n');
  }
  say(`\narchive    ${meetings}: ${Object.keys(ARCHIVE).length} files in folders, written for the demo`);
  say(`           $ batchscribe submit meetings --name "demo meeting archive" --wait\n`);
  const env = {
    BATCHSCRIBE_URL: apiUrl,
    BATCHSCRIBE_TOKEN: TOKEN,
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_CONFIG_HOME: join(root, 'config'),
  };
  const submitted = await cli(['submit', 'meetings', '--name', 'demo meeting archive', '--wait'], env, root);
  if (submitted.code !== 0) throw new Error(`batchscribe submit ended with exit code ${submitted.code}`);
  const jobId = submitted.stdout.trim();
  say(`\n           $ batchscribe results ${jobId} --format srt --out transcripts`);
  const results = await cli(['results', jobId, '--format', 'srt', '--out', 'transcripts'], env, root);
  if (results.code !== 0) throw new Error(`batchscribe results ended with exit code ${results.code}`);
  const out = join(root, 'transcripts');
  const written = (
    readdirSync(out, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; name: string; parentPath: string }>
  )
    .filter((e) => e.isFile())
    .map((e) => relative(out, join(e.parentPath, e.name)))
    .sort();
  say(`\nsrt folder ${out}:`);
  for (const path of written) say(`           ${path}`);
  const first = written[0];
  if (!first) throw new Error('results --out wrote no SRT file');
  say(`\n${first}:\n\n${readFileSync(join(out, first), 'utf8')}`);
}

/** Runs the CLI from sources; its progress bars go to this terminal (stderr), its stdout is kept. */
function cli(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // tsx by its path: the CLI runs in the archive's folder, where `tsx` would not resolve.
    const tsx = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');
    const child = spawn(process.execPath, ['--import', tsx, '--conditions=source', join(REPO_ROOT, 'apps/cli/src/main.ts'), ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      process.stdout.write(c);
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

/** The promise's value, or the error after `ms`; the timer is cleared either way so the demo exits at once. */
async function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timer.signal }).then(() => {
        throw new Error(message);
      }),
    ]);
  } finally {
    timer.abort();
  }
}

/** Says which files failed and why; the simulator fails about 1 % of them on purpose (SIM_FAIL_RATE). */
async function explainFailures(apiUrl: string, jobId: string, count: number, headers: Record<string, string>): Promise<void> {
  const failed = (await (await fetch(`${apiUrl}/v1/jobs/${jobId}/results?status=failed&limit=5`, { headers })).json()) as {
    data: Array<{ index: number; error: { code: string; message: string } | null }>;
  };
  say(
    `failed     ${count} file(s): the simulator fails about ${FAIL_RATE * 100} % of files on purpose, as a real upstream sometimes does:`,
  );
  for (const f of failed.data) say(`           file ${f.index}: ${f.error?.code ?? 'unknown'}: ${f.error?.message ?? ''}`);
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
