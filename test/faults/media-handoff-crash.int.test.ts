import { describe, expect, it } from '@jest/globals';
import { wav } from '../../scripts/lib/wav.js';
import { FaultStack, TOKEN, newObservations, withDeadline } from '../support/fault-stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';
import { runTus } from '../support/tus-client.js';

/**
 * A worker SIGKILLed while it hands uploaded media to foxapi's file API (MEDIA_HANDOFF=foxapi,
 * the default with the fs store): `during-handoff-upload` once a file's bytes are on their way
 * and before foxapi answers, `after-handoff-upload` once foxapi answered with the file's URL
 * and before the URL is recorded. Either way a file may be at foxapi with no record of it: the
 * next worker sends it again (harmless: the copy nobody recorded is never submitted), submits
 * each batch once, and every file is transcribed as its own. The simulator fetches every media
 * URL it is given, so a URL that does not serve the file would fail its file.
 */

const track = stopAfterEach();

const FILES = 6;
const BATCH_SIZE = 3;

type Point = 'during-handoff-upload' | 'after-handoff-upload';

/** The `m:<position>` entries of a batch record that hold a URL (a file handed off and recorded). */
async function recordedUrls(s: FaultStack, jobId: string, batch: number): Promise<string[]> {
  const fields = await s.admin.hgetall(s.keys.batch(jobId, batch));
  return Object.entries(fields)
    .filter(([k]) => k.startsWith('m:'))
    .map(([, v]) => (JSON.parse(v) as { u?: string }).u)
    .filter((u): u is string => u !== undefined);
}

describe('worker SIGKILLed during the media handoff', () => {
  it.each<Point>(['during-handoff-upload', 'after-handoff-upload'])(
    'when a worker dies at %s and another starts, then every file is transcribed as its own and each batch is submitted once',
    async (point) => {
      const s = track(
        await FaultStack.start({ sim: { taskDurationMs: 300, fetchMedia: true }, apiEnv: { BATCH_SIZE: String(BATCH_SIZE) } }),
      );
      await s.diagnose(async () => {
        const workerA = await s.startApiAndWorker({ BATCHSCRIBE_CRASH_AT: point, WORKER_CONCURRENCY: '1' }, 'workerA');
        const names = Array.from({ length: FILES }, (_, i) => `meeting-${i}.wav`);
        const ids: string[] = [];
        for (const [i, name] of names.entries()) {
          const run = await runTus({ apiUrl: s.apiUrl, token: TOKEN, bytes: wav(1 + (i % 3), 100 + i), filename: name });
          expect(run.outcome).toBe('done');
          ids.push(run.url.split('/').pop()!);
        }
        const res = await s.request<{ id: string; batches: { total: number } }>('POST', '/v1/jobs', {
          body: JSON.stringify({ files: ids.map((upload_id, i) => ({ upload_id, ref: `archive/${names[i]}` })) }),
        });
        expect(res.status).toBe(202);
        const jobId = res.body.id;
        expect(res.body.batches.total).toBe(FILES / BATCH_SIZE);

        const obs = newObservations();
        await s.waitForJob(jobId, obs, { done: () => !workerA.alive, timeoutMs: 30_000 });
        expect(await withDeadline(workerA.exited, 5_000, `worker A crashing at ${point}`)).toEqual({ code: null, signal: 'SIGKILL' });

        // Where A died: before any submit, its batch still queued.
        const atCrash = s.sim.stats();
        expect(atCrash.submissions).toBe(0);
        expect(await s.batchStates(jobId, 2)).toEqual(['queued', 'queued']);
        const recordedAtCrash = (await recordedUrls(s, jobId, 0)).length + (await recordedUrls(s, jobId, 1)).length;
        expect(recordedAtCrash).toBeLessThan(BATCH_SIZE);
        // after-handoff-upload: foxapi holds a file whose URL nobody recorded.
        if (point === 'after-handoff-upload') expect(atCrash.uploads).toBeGreaterThan(recordedAtCrash);

        await s.startWorker({}, 'workerB');
        const job = await s.waitForJob(jobId, obs, { timeoutMs: 60_000 });
        expect(obs.broken).toEqual([]);
        expect(job.status).toBe('completed');
        expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });

        const stats = s.sim.stats();
        // Each batch submitted once; each file in one task, once.
        expect(stats.submissions).toBe(FILES / BATCH_SIZE);
        expect(stats.duplicateSubmissions).toBe(0);
        expect(Object.values(stats.submittedUrls)).toEqual(Array(FILES).fill(1));
        expect(stats.mediaFetchFailures).toBe(0);
        // A file is sent to foxapi again only when A may have sent it unrecorded: at most the ones in flight.
        expect(stats.uploads).toBeGreaterThanOrEqual(FILES);
        expect(stats.uploads).toBeLessThanOrEqual(FILES + BATCH_SIZE);
        // What was submitted is what the batches recorded.
        const recorded = [...(await recordedUrls(s, jobId, 0)), ...(await recordedUrls(s, jobId, 1))].sort();
        expect(recorded).toEqual(Object.keys(stats.submittedUrls).sort());

        const results = (await s.allResults(jobId)) as unknown as Array<{
          index: number;
          upload_id: string;
          filename: string;
          status: string;
          transcript: { text: string } | null;
        }>;
        expect(results).toHaveLength(FILES);
        for (const r of results) {
          expect(r).toMatchObject({ upload_id: ids[r.index], filename: names[r.index], status: 'completed' });
          expect(r.transcript?.text).toContain(names[r.index]);
        }
      });
    },
    120_000,
  );
});
