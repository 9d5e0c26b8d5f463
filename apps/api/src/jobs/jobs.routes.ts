import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import {
  JOB_STATUS_FILTER,
  jobNotFound,
  requireJob,
  scanUrlListBytes,
  UrlListBytes,
  type ClaimStore,
  type Job,
  type JobReader,
  type OutboundPolicy,
  type UploadStore,
} from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, encodeCursor, pageQuery } from '../http/cursor.js';
import { scannedJsonBody, scannedTextBody } from '../http/body-parsers.js';
import { ProblemError } from '../http/problem.js';
import type { IntakeAdmission } from '../http/intake-admission.js';
import { parseOr400 } from '../http/validation.js';
import { createJob, type CreateJobDeps, type CreateJobExtra } from './create-job.js';
import { claimIdempotencyKey, releaseIdempotencyKey } from './idempotency.js';
import { parseJsonIntake, parseTextIntake, requireAllowedHost, type IntakeLimits, type IntakeRequest } from './intake.js';
import { resolveUploads } from './intake-uploads.js';
import { scanJobBody } from './job-body-scan.js';
import { type JobActions } from './job-actions.js';

export interface JobsRoutesDeps extends CreateJobDeps {
  reader: JobReader;
  actions: JobActions;
  /** Idempotency-Key claims. */
  claims: ClaimStore;
  limits: IntakeLimits;
  maxBodyBytes: number;
  pollMinMs: number;
  /** The tenant's intake rate limit, shared with schedule creations, runs and fires. */
  limitIntake: RequestHandler;
  /** This process's budget of job-list bytes being taken in, shared with schedule runs. */
  admission: IntakeAdmission;
  /** Where a callback_url may point. */
  outbound: OutboundPolicy;
  /** The uploads `files[].upload_id` names (checked ready and attached to the job). */
  uploads: UploadStore;
}

export const listQuery = pageQuery(100, 20).extend({ status: JOB_STATUS_FILTER.optional() });

export function jobIdParam(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !/^job_[0-9a-z]{26}$/.test(id)) throw jobNotFound();
  return id;
}

export function jobsRoutes(deps: JobsRoutesDeps): Router {
  const router = Router();
  const json = scannedJsonBody(deps.maxBodyBytes, scanJobBody);
  const text = scannedTextBody(deps.maxBodyBytes, scanUrlListBytes);

  router.post('/v1/jobs', deps.limitIntake, deps.admission.middleware, json, text, async (req, res) => {
    const intake = req.is(['application/json', 'application/*+json'])
      ? parseJsonIntake(req.body, deps.limits, req.query)
      : req.is('text/plain')
        ? parseTextIntake(req.body instanceof UrlListBytes || typeof req.body === 'string' ? req.body : '', req.query, deps.limits)
        : unsupported(req);
    await requireAllowedHost(deps.outbound, intake.callbackUrl, 'callback_url');
    const tenant = tenantOf(req);
    const key = req.get('idempotency-key');
    const create = async (extra: CreateJobExtra = {}): Promise<Job> => {
      const { request, checkedAt } = await resolveUploads(deps.uploads, tenant, intake, (deps.clock?.() ?? new Date()).getTime());
      return createJob(deps, tenant, request, { ...extra, uploadsCheckedAt: checkedAt });
    };
    if (key === undefined) return sendCreated(res, await create(), req);
    // The key is claimed before the uploads are looked at: a replay returns the first job even
    // once its uploads have ended and gone.
    const claim = await claimIdempotencyKey(deps.claims, tenant, key, JSON.stringify(intake satisfies IntakeRequest));
    if (claim.kind === 'replay') {
      const job = await deps.reader.getJob(claim.jobId, tenant);
      if (!job)
        throw new ProblemError('conflict', 'The job this Idempotency-Key created no longer exists (deleted or expired); use a new key.');
      res.status(200).location(`/v1/jobs/${job.id}`).set('idempotent-replayed', 'true').json(job);
      return;
    }
    try {
      sendCreated(res, await create({ idempotency: claim.handle }), req);
    } catch (err) {
      await releaseIdempotencyKey(deps.claims, claim.handle).catch(() => undefined);
      throw err;
    }
  });

  function sendCreated(res: Response, job: Job, req: Request): void {
    req.log.info({ jobId: job.id, files: job.counts.total, batches: job.batches.total }, 'job created');
    res
      .status(202)
      .location(`/v1/jobs/${job.id}`)
      .set('retry-after', String(Math.max(1, Math.ceil(deps.pollMinMs / 1000))))
      .json(job);
  }

  const readAfter = async (req: Request, res: Response, status: number) => {
    res.status(status).json(await requireJob(deps.reader, jobIdParam(req), tenantOf(req)));
  };

  router.post('/v1/jobs/:id/cancel', async (req, res) => {
    await deps.actions.cancel(jobIdParam(req), tenantOf(req));
    req.log.info({ jobId: req.params.id }, 'job cancel accepted');
    await readAfter(req, res, 202);
  });

  router.post('/v1/jobs/:id/retry', async (req, res) => {
    const batches = await deps.actions.retry(jobIdParam(req), tenantOf(req));
    req.log.info({ jobId: req.params.id, batches }, 'job retry accepted');
    await readAfter(req, res, 202);
  });

  router.delete('/v1/jobs/:id', async (req, res) => {
    await deps.actions.delete(jobIdParam(req), tenantOf(req));
    req.log.info({ jobId: req.params.id }, 'job deleted');
    res.status(204).end();
  });

  router.get('/v1/jobs', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'The query');
    const after = q.cursor === undefined ? null : decodeCursor(q.cursor, z.string().regex(/^job_[0-9a-z]{26}$/));
    const page = await deps.reader.listJobs(tenantOf(req), { limit: q.limit, after, status: q.status ?? null });
    res.json({ data: page.jobs, next_cursor: page.next === null ? null : encodeCursor(page.next) });
  });

  router.get('/v1/jobs/:id', async (req, res) => {
    res.json(await requireJob(deps.reader, jobIdParam(req), tenantOf(req)));
  });

  return router;
}

function unsupported(req: Request): never {
  const type = req.get('content-type');
  throw new ProblemError(
    'unsupported-media-type',
    type
      ? `Content-Type ${type} is not accepted; send application/json or text/plain.`
      : 'Send a Content-Type: application/json or text/plain.',
  );
}
