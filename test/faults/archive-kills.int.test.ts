import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Job } from '@batchscribe/shared';
import { startCliProcess, type CliRun, type StartedCli } from '../../apps/cli/test/cli-process.js';
import { startThrottleProxy, type ProxiedRequest } from '../../apps/cli/test/upload-api.js';
import { writeZip } from '../../apps/cli/test/zip-fixture.js';
import { wav } from '../../scripts/lib/wav.js';
import { FaultStack, TOKEN, newObservations, withDeadline } from '../support/fault-stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';
import { waitFor } from '../support/wait-for.js';
import { listFiles } from '../support/list-files.js';

/**
 * The archive workflow's promise as one story (issue "Meeting archives from disk", Done when):
 * a folder of recordings in nested subfolders, and a zip, go in with one `submit DIR --wait`
 * and come out of `results --out` as a folder of SRT files with the same structure, while
 * everything that can die dies once along the way:
 *  1. the CLI, kill -9 in the middle of its uploads, then run again with `--resume`;
 *  2. the api, kill -9 while that second run is uploading, then started again on the same port;
 *     the CLI's own retries (or, if it gave up, one more `--resume`) continue every upload from
 *     the offset the new api reports;
 *  3. the worker, kill -9 once the job exists and its batches are open, then a new one.
 * Everything runs as real processes (api, worker, CLI); the CLI talks to the api through a
 * throttling proxy (apps/cli/test/upload-api.ts) that counts every PATCH body byte, so "each
 * upload continues from its offset" is checked on the wire, and that stays at one URL while
 * the api behind it is replaced.
 *
 * The worker is killed through killWorkerOutsideSubmitWindow: a kill while foxapi is answering
 * a submit is ambiguous by design (docs/upstream.md, "Submitting without idempotency") and has
 * its own test; here no file may be submitted twice.
 */

const track = stopAfterEach();

const BATCH_SIZE = 2;
/** Bytes per PATCH: a kill loses at most the chunk in flight of each upload. */
const CHUNK = 65_536;
/** Bytes per second each PATCH body is forwarded at while a kill is to land mid-upload. */
const THROTTLE = 150_000;
const SRT_CUE = /^\d+\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n.+/;

/** The folder (refs relative to it) and the zip (refs are entry names). Basenames are distinct: foxapi's copies are named by them. */
const FOLDER: Record<string, Buffer> = {
  '2026/11/standup.wav': wav(12, 1),
  '2026/11/review.wav': wav(10, 2),
  '2026/12/retro.wav': wav(8, 3),
  'clients/acme/kickoff.wav': wav(10, 4),
  'all-hands.wav': wav(6, 5),
};
const ZIPPED: Record<string, { data: Buffer; compress: boolean }> = {
  'calls/2026-11-02.wav': { data: wav(8, 6), compress: true },
  'calls/raw/2026-11-03.wav': { data: wav(6, 7), compress: false },
};
const ALL: Record<string, Buffer> = {
  ...FOLDER,
  ...Object.fromEntries(Object.entries(ZIPPED).map(([ref, e]) => [ref, e.data])),
};
const TOTAL_BYTES = Object.values(ALL).reduce((n, b) => n + b.length, 0);
const FILES = Object.keys(ALL).length;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const srtOf = (ref: string) => ref.replace(/\.wav$/, '.srt');
const idOf = (path: string) => path.split('/').pop()!;

let work: string | undefined;
afterEach(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  work = undefined;
});

/** The PATCHes the proxy has forwarded from request number `from` on. */
function patchesFrom(requests: ProxiedRequest[], from: number): ProxiedRequest[] {
  return requests.slice(from).filter((r) => r.method === 'PATCH');
}

const bytesOf = (patches: ProxiedRequest[]) => patches.reduce((n, r) => n + r.bytes, 0);

describe('an archive through the CLI while the CLI, the api and a worker are each killed with -9', () => {
  it('when a folder and a zip are submitted with --wait and the CLI, the api and a worker each die once, then every upload continues from its offset, one job is made, nothing is submitted twice, and results --out gives an SRT per recording in the same folders', async () => {
    const s = track(
      await FaultStack.start({
        sim: { taskDurationMs: 1_500, fetchMedia: true },
        apiEnv: { BATCH_SIZE: String(BATCH_SIZE) },
        // A batch whose submit was held at foxapi's door when its worker died is sent again after its lease.
        workerEnv: { SUBMIT_RETRY_AMBIGUOUS: 'true', WORKER_CONCURRENCY: '2' },
      }),
    );
    const proxy = await startThrottleProxy(s.apiUrl);
    track({ stop: () => proxy.close() });
    work = await mkdtemp(join(tmpdir(), 'bs-archive-kills-'));
    const root = work;
    for (const [ref, bytes] of Object.entries(FOLDER)) {
      await mkdir(join(root, 'recordings', ref, '..'), { recursive: true });
      await writeFile(join(root, 'recordings', ref), bytes);
    }
    await writeZip(
      join(root, 'calls.zip'),
      Object.entries(ZIPPED).map(([name, e]) => ({ name, ...e })),
    );
    const cache = join(root, 'cache');
    const cliEnv = { BATCHSCRIBE_URL: proxy.url, BATCHSCRIBE_TOKEN: TOKEN, XDG_CACHE_HOME: cache, BATCHSCRIBE_CHUNK_SIZE: String(CHUNK) };
    const started: StartedCli[] = [];
    track({
      stop: async () => {
        for (const c of started) c.child.kill('SIGKILL');
      },
    });
    const cli = (args: string[]): StartedCli => {
      const run = startCliProcess(args, { env: cliEnv, cwd: root, timeoutMs: 90_000 });
      started.push(run);
      return run;
    };
    const submit = (resume: boolean) =>
      cli(['submit', 'recordings', 'calls.zip', '--parallel', '2', '--wait', ...(resume ? ['--resume'] : [])]);
    /** Waits until `bytes` more PATCH body bytes went through since request `from`, failing if `run` ends first. */
    const untilSent = (run: StartedCli, from: number, bytes: number, what: string) =>
      waitFor(
        async () => {
          if (run.child.exitCode !== null) throw new Error(`the CLI ended before ${what}: ${run.stderr()}`);
          return bytesOf(patchesFrom(proxy.requests, from)) >= bytes ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 10, what },
      );
    await s.diagnose(async () => {
      const worker = await s.startApiAndWorker({}, 'workerA');

      // 1. The CLI, kill -9 in the middle of its uploads.
      proxy.state.bytesPerSecond = THROTTLE;
      const run1 = submit(false);
      await untilSent(run1, 0, 300_000, '300 kB uploaded by the first run');
      run1.child.kill('SIGKILL');
      expect((await run1.done).code).toBeNull();

      // 2. Run again with --resume; kill -9 the api while it uploads, and start it again on the same port.
      const second = proxy.requests.length;
      let run = submit(true);
      await untilSent(run, second, 200_000, '200 kB uploaded by the resumed run');
      const killedAt = proxy.requests.length;
      expect(await s.api!.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      proxy.state.bytesPerSecond = null;
      await s.startApi();

      // The job appears once the uploads are done; the CLI may have given up while the api was
      // away (its retries ran out): then it is run once more with --resume, as a user would.
      const runs: CliRun[] = [];
      const jobs = async () => (await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100')).body.data;
      const job = await waitFor(
        async () => {
          const [found] = await jobs();
          if (found) return found;
          if (run.child.exitCode !== null) {
            if (runs.length > 0) throw new Error(`the CLI failed again, after --resume: ${run.stderr()}`);
            const ended = await run.done;
            runs.push(ended);
            run = submit(true);
          }
          return undefined;
        },
        { timeoutMs: 40_000, intervalMs: 50, what: 'the job created by the CLI' },
      );
      // An extra run only after an error that told the user to run again with --resume.
      for (const ended of runs)
        expect({ failed: ended.code !== null && ended.code > 0, resumable: /--resume/.test(ended.stderr) }).toEqual({
          failed: true,
          resumable: true,
        });

      const results = await s.request<{ data: Array<{ index: number; ref: string; upload_id: string; filename: string; batch: number }> }>(
        'GET',
        `/v1/jobs/${job.id}/results?include_transcript=false&limit=100`,
      );
      expect(results.status).toBe(200);
      const files = results.body.data;
      expect(files.map((f) => f.ref).sort()).toEqual(Object.keys(ALL).sort());

      // On the wire, upload by upload: every PATCH starts where the api's bytes end. After an
      // answered PATCH that is its end; after one cut off by a kill (no answer), it is somewhere
      // in it (what the api had stored of it when it, or the CLI, died), never back at 0.
      const patches = patchesFrom(proxy.requests, 0);
      const cutOff = patches.filter((p) => p.status === undefined);
      const answered = (p: ProxiedRequest) => p.status !== undefined && p.status >= 200 && p.status < 300;
      expect(patches.every((p) => p.status === undefined || answered(p))).toBe(true);
      for (const f of files) {
        const own = patches.filter((p) => idOf(p.path) === f.upload_id);
        const wire = own.map((p) => ({ offset: p.offset, bytes: p.bytes, answered: answered(p) }));
        expect({ ref: f.ref, first: wire[0]?.offset }).toEqual({ ref: f.ref, first: 0 });
        for (let i = 1; i < own.length; i++) {
          const prev = own[i - 1]!;
          const at = own[i]!.offset!;
          const where = { ref: f.ref, patch: i, wire };
          if (answered(prev)) expect({ ...where, at }).toEqual({ ...where, at: prev.offset! + prev.bytes });
          else expect({ ...where, within: at >= prev.offset! && at <= prev.offset! + prev.bytes }).toEqual({ ...where, within: true });
        }
        // The last may be one cut off after its last byte went through: the api had it all, and the next run's HEAD said so.
        const last = own[own.length - 1]!;
        expect({ ref: f.ref, end: last.offset! + last.bytes }).toEqual({ ref: f.ref, end: ALL[f.ref]!.length });
      }
      // Each kill cut an upload in the middle, and that upload went on later from a byte past 0:
      // the same upload, not a new one from the start. (Where a cut-off PATCH resumed is checked
      // above for every one; a cut-off PATCH that was an upload's last had all its bytes through:
      // the next run's HEAD said so, and nothing was sent again.)
      const resumedAt = (cut: ProxiedRequest) => patches.slice(patches.indexOf(cut) + 1).find((p) => p.path === cut.path)?.offset;
      const byCli = cutOff.filter((p) => proxy.requests.indexOf(p) < second);
      const byApi = cutOff.filter((p) => proxy.requests.indexOf(p) >= second);
      expect(byCli.map(resumedAt).some((at) => at !== undefined && at > 0)).toBe(true);
      expect(byApi.map(resumedAt).some((at) => at !== undefined && at > 0)).toBe(true);
      // What was sent twice is at most what the cut-off PATCHes carried: one chunk each, at most
      // one per running upload per kill; after the api came back, less than the whole archive went again.
      const allSent = bytesOf(patches);
      expect(cutOff.length).toBeLessThanOrEqual(2 * 2);
      expect(allSent - TOTAL_BYTES).toBeLessThanOrEqual(cutOff.length * CHUNK);
      expect(bytesOf(patchesFrom(proxy.requests, killedAt))).toBeLessThan(TOTAL_BYTES);

      // Every upload the job names is ready, with the SHA-256 of its file's bytes.
      for (const f of files) {
        const upload = await s.request<{ status: string; sha256: string | null; filename: string }>('GET', `/v1/uploads/${f.upload_id}`);
        expect({ ref: f.ref, ...upload.body }).toMatchObject({ ref: f.ref, status: 'ready', sha256: sha(ALL[f.ref]!) });
      }

      // 3. The worker, kill -9 while the job's batches are open; then a new one.
      const batches = Math.ceil(FILES / BATCH_SIZE);
      expect(job.batches.total).toBe(batches);
      const obs = newObservations();
      await s.waitForJob(job.id, obs, { done: () => s.sim.stats().submissions >= 1, timeoutMs: 30_000 });
      const batchOfFilename = new Map(files.map((f) => [f.filename, f.batch]));
      const batchOfUrl = (url: string) => {
        const b = batchOfFilename.get(decodeURIComponent(url.split('/').pop()!));
        if (b === undefined) throw new Error(`not a URL of this job's files: ${url}`);
        return b;
      };
      await s.killWorkerOutsideSubmitWindow(worker, job.id, batches, batchOfUrl);
      const open = await s.request<Job>('GET', `/v1/jobs/${job.id}`);
      expect(open.body.counts.completed).toBeLessThan(FILES);
      await s.startWorker({}, 'workerB');

      const ended = await withDeadline(run.done, 45_000, 'the CLI following the job to its end');
      expect(ended.stderr).toMatch(new RegExp(`completed: ${FILES} of ${FILES} files transcribed\\n$`));
      expect(ended).toMatchObject({ code: 0, stdout: `${job.id}\n` });

      const final = await s.waitForJob(job.id, obs, { timeoutMs: 10_000 });
      expect(obs.broken).toEqual([]);
      expect(final.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
      expect((await jobs()).map((j) => j.id)).toEqual([job.id]);
      const stats = s.sim.stats();
      expect(stats.duplicateSubmissions).toBe(0);
      expect(Object.values(stats.submittedUrls)).toEqual(Array(FILES).fill(1));
      expect(stats.mediaFetchFailures).toBe(0);

      // 4. The transcripts come out as SRT files in the folders the recordings were in.
      const out = await startCliProcess(['results', job.id, '--format', 'srt', '--out', 'transcripts'], {
        env: cliEnv,
        cwd: root,
        timeoutMs: 30_000,
      }).done;
      expect(out).toMatchObject({ code: 0, stderr: '', stdout: `wrote ${FILES} srt files to transcripts\n` });
      const written = await listFiles(join(root, 'transcripts'));
      expect(written).toEqual(Object.keys(ALL).map(srtOf).sort());
      for (const path of written) expect(await readFile(join(root, 'transcripts', path), 'utf8')).toMatch(SRT_CUE);
    });
  }, 120_000);
});
