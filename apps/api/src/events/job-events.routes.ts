import { Router } from 'express';
import { requireJob, type JobReader } from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { jobIdParam } from '../jobs/jobs.routes.js';
import { streamJobEvents, type JobEventStreamOptions } from './job-event-stream.js';
import type { JobEventsHub } from './job-events.hub.js';
import { StreamSlots, type StreamSlotsOptions } from './stream-slots.js';

/** `GET /v1/jobs/{id}/events`: Server-Sent Events of one job, until it ends. */
export function jobEventsRoutes(deps: {
  reader: JobReader;
  hub: JobEventsHub;
  limits: StreamSlotsOptions;
  stream?: JobEventStreamOptions;
}): Router {
  const router = Router();
  const slots = new StreamSlots(deps.limits);
  router.get('/v1/jobs/:id/events', async (req, res) => {
    const jobId = jobIdParam(req);
    const tenant = tenantOf(req);
    // Checked before any byte is sent, so another tenant's job is a plain 404 problem.
    await requireJob(deps.reader, jobId, tenant);
    // The caller may have gone while the job was read: a closed response would never give its slot back.
    if (res.destroyed) return;
    const release = slots.acquire(tenant);
    res.once('close', release);
    streamJobEvents(res, { jobId, tenant, reader: deps.reader, hub: deps.hub, log: req.log }, deps.stream);
  });
  return router;
}
