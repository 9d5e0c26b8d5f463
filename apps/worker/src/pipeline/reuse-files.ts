import {
  reuseFingerprint,
  reuseIdentity,
  upstreamOptionsFromHash,
  type BatchRecord,
  type FileRecord,
  type Priority,
  type ReusePlan,
  type ReuseSource,
} from '@batchscribe/shared';
import { done, later, type StepContext, type StepResult } from './step.js';

/**
 * `"reuse": true` (README, "Costs"; docs/architecture.md, "Reuse"), before a queued batch of such a
 * job is submitted. Each file is:
 * - reused: the tenant's index names a file that transcribed the same recording with the same
 *   model and options within JOB_RETENTION_S (one Redis read for the batch), or it repeats an
 *   earlier file of this job that is completed: completed now from that transcript, no foxapi call;
 * - deferred: it repeats an earlier file of this job that is still queued or at foxapi: it waits
 *   for that one instead of paying for the same recording twice;
 * - sent: everything else, and a repeat whose earlier file failed or was cancelled.
 * The reused and deferred files leave the batch in one store step (BatchStore.reuseSplit), which
 * makes the deferred ones a batch of their own when the others go out now; a batch that keeps
 * only deferred files waits, and one left with nothing has ended without a task.
 */

/** How soon a batch holding only files that wait for an earlier file of the job looks again. */
export const FOLLOWER_WAIT_MS = 2_000;

/** How soon a split that needs a new batch looks again while the job's intake is still enqueueing. */
const INTAKE_WAIT_MS = 500;

/** What the submit step goes on with. */
export type ReuseOutcome =
  /** Submit these (the batch as it was, or what a split left in it). */
  | { kind: 'submit'; rec: BatchRecord; files: FileRecord[] }
  /** Nothing to submit now. */
  | { kind: 'step'; result: StepResult };

/** Plans and applies the split of a queued batch of a `reuse` job; `files` are its files' records, in `rec.files` order. */
export async function reuseBeforeSubmit(
  ctx: StepContext,
  rec: BatchRecord,
  job: Record<string, string>,
  files: FileRecord[],
): Promise<ReuseOutcome> {
  const { deps, log } = ctx;
  const model = job.model ?? 'paraformer-v2';
  const options = upstreamOptionsFromHash(job);
  const at = deps.clock();
  const hits = await deps.store.reuse.lookup(
    job.tenant ?? '',
    files.map((f) => reuseFingerprint(reuseIdentity(f), model, options)),
    at,
  );
  const leaders = await leadersOf(ctx, rec, files);
  const excluded = new Set<string>();
  for (let attempt = 0; attempt < 3; attempt++) {
    const plan = planReuse(rec, files, hits, leaders, excluded, at);
    if (plan.reused.length === 0 && plan.deferred.length === 0) return { kind: 'submit', rec, files };
    if (plan.reused.length === 0 && plan.rest.length === 0) {
      return {
        kind: 'step',
        result: later(FOLLOWER_WAIT_MS + (deps.random ?? Math.random)() * 250, 'waiting for the same file earlier in the job'),
      };
    }
    const outcome = await deps.store.reuseSplit(rec.jobId, rec.batch, plan);
    if (outcome.kind === 'invalid') {
      // Deleted (or being deleted) since the index learnt them: those files are transcribed instead.
      for (const s of outcome.sources) excluded.add(s);
      continue;
    }
    if (outcome.kind === 'gone') return { kind: 'step', result: done };
    if (outcome.kind === 'intake') return { kind: 'step', result: later(INTAKE_WAIT_MS, 'the job’s batches are still being enqueued') };
    // A replay found the batch moved on, or a cancel came first: the next look decides.
    if (outcome.kind !== 'ok') return { kind: 'step', result: later(0, `reuse found the batch ${outcome.kind}`) };
    deps.crash('after-reuse-split');
    if (outcome.created !== null) {
      await deps.enqueue(rec.jobId, [outcome.created], (job.priority ?? 'bulk') as Priority);
      await deps.store.doneEnqueueing(rec.jobId, plan.at);
    }
    log.info(
      { reused: plan.reused.length, deferred: plan.deferred.length, sent: plan.rest.length, deferredTo: outcome.created },
      'files completed from earlier transcripts',
    );
    if (outcome.ended) return { kind: 'step', result: done };
    if (plan.rest.length === 0) return { kind: 'step', result: later(FOLLOWER_WAIT_MS, 'waiting for the same file earlier in the job') };
    const byIndex = new Map(rec.files.map((index, i) => [index, files[i]!]));
    return { kind: 'submit', rec: { ...rec, files: plan.rest }, files: plan.rest.map((i) => byIndex.get(i)!) };
  }
  // Sources kept vanishing under us: look again from the start.
  return { kind: 'step', result: later(0, 'reuse sources changed') };
}

/** The records of the earlier files these files repeat (`ld`): from the batch itself, or read in one round trip. */
async function leadersOf(ctx: StepContext, rec: BatchRecord, files: FileRecord[]): Promise<Map<number, FileRecord>> {
  const known = new Map(rec.files.map((index, i) => [index, files[i]!]));
  const wanted = [...new Set(files.flatMap((f) => (f.ld !== undefined && !known.has(f.ld) ? [f.ld] : [])))];
  const out = new Map<number, FileRecord>();
  for (const f of files) if (f.ld !== undefined && known.has(f.ld)) out.set(f.ld, known.get(f.ld)!);
  if (wanted.length === 0) return out;
  const read = await ctx.deps.store.readFiles(rec.jobId, wanted);
  wanted.forEach((index, k) => out.set(index, read[k]!));
  return out;
}

/** Decides each file's way (see the module's comment); `excluded`: source jobs that may not be read. */
export function planReuse(
  rec: BatchRecord,
  files: readonly FileRecord[],
  hits: ReadonlyArray<ReuseSource | null>,
  leaders: ReadonlyMap<number, FileRecord>,
  excluded: ReadonlySet<string>,
  at: number,
): ReusePlan {
  const plan: ReusePlan = { expected: [...rec.files], reused: [], deferred: [], rest: [], at };
  for (const [k, index] of rec.files.entries()) {
    const file = files[k]!;
    const hit = hits[k] ?? null;
    if (hit !== null && !excluded.has(hit.jobId) && !(hit.jobId === rec.jobId && hit.index === index)) {
      plan.reused.push({ index, source: hit });
      continue;
    }
    const leader = file.ld === undefined ? undefined : leaders.get(file.ld);
    if (file.ld === undefined || leader === undefined) {
      plan.rest.push(index);
    } else if (leader.s === 'completed') {
      // Its transcript is the leader's own, or the one the leader was itself completed from.
      const source: ReuseSource = leader.rf ? { jobId: leader.rf.j, index: leader.rf.i } : { jobId: rec.jobId, index: file.ld };
      if (excluded.has(source.jobId)) plan.rest.push(index);
      else plan.reused.push({ index, source });
    } else if (leader.s === 'queued' || leader.s === 'submitted') {
      plan.deferred.push(index);
    } else {
      // The earlier one failed or was cancelled: this one is transcribed on its own.
      plan.rest.push(index);
    }
  }
  return plan;
}
