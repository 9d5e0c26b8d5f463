import { Router } from 'express';
import type { Redis } from 'ioredis';
import { requireJob, type JobReader, type KeyLayout } from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { jobIdParam } from '../jobs/jobs.routes.js';
import { redeliverWebhook } from './redeliver-webhook.js';

/** `POST /v1/jobs/{id}/webhook/redeliver` → 202 with the Job (its `webhook` pending again). */
export function webhooksRoutes(deps: { redis: Redis; keys: KeyLayout; reader: JobReader }): Router {
  const router = Router();
  router.post('/v1/jobs/:id/webhook/redeliver', async (req, res) => {
    const jobId = jobIdParam(req);
    const tenant = tenantOf(req);
    await redeliverWebhook(deps, jobId, tenant);
    req.log.info({ jobId }, 'webhook redelivery queued');
    res.status(202).json(await requireJob(deps.reader, jobId, tenant));
  });
  return router;
}
