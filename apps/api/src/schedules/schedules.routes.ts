import { Router, type Request, type RequestHandler } from 'express';
import type { OutboundPolicy } from '@batchscribe/shared';
import { z } from 'zod';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, encodeCursor, pageQuery } from '../http/cursor.js';
import { jsonBody } from '../http/body-parsers.js';
import { ProblemError } from '../http/problem.js';
import { parseOr400 } from '../http/validation.js';
import type { IntakeAdmission } from '../http/intake-admission.js';
import { requireAllowedHost } from '../jobs/intake.js';
import type { ScheduleActions } from './schedule-actions.js';
import { parseScheduleRequest, type ScheduleLimits } from './schedule-intake.js';

export interface SchedulesRoutesDeps {
  actions: ScheduleActions;
  limits: ScheduleLimits;
  maxBodyBytes: number;
  /** The tenant's intake rate limit: creating and running a schedule count as submitting a job. */
  limitIntake: RequestHandler;
  /** The bytes of job lists this process takes in at once (bodies here, manifests in `run`). */
  admission: IntakeAdmission;
  outbound: OutboundPolicy;
}

const SCHEDULE_ID = /^sch_[0-9a-z]{26}$/;
export const listQuery = pageQuery(100, 20);

function scheduleIdParam(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) throw new ProblemError('not-found', 'No such schedule.');
  return id;
}

/** The schedules routes (README, "Nightly jobs: schedules"). */
export function schedulesRoutes(deps: SchedulesRoutesDeps): Router {
  const router = Router();
  const json = jsonBody(deps.maxBodyBytes);

  router.post('/v1/schedules', deps.limitIntake, deps.admission.middleware, json, async (req, res) => {
    if (!req.is(['application/json', 'application/*+json'])) {
      throw new ProblemError('unsupported-media-type', 'Send the schedule as Content-Type: application/json.');
    }
    const request = parseScheduleRequest(req.body, deps.limits, req.query);
    await requireAllowedHost(deps.outbound, request.manifestUrl, 'manifest_url');
    await requireAllowedHost(deps.outbound, request.job.callback_url, 'job.callback_url');
    const schedule = await deps.actions.create(tenantOf(req), request);
    req.log.info({ scheduleId: schedule.id, cron: schedule.cron, timezone: schedule.timezone }, 'schedule created');
    res.status(201).location(`/v1/schedules/${schedule.id}`).json(schedule);
  });

  router.get('/v1/schedules', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'The query');
    const after = q.cursor === undefined ? null : decodeCursor(q.cursor, z.string().regex(SCHEDULE_ID));
    const page = await deps.actions.list(tenantOf(req), { limit: q.limit, after });
    res.json({ data: page.schedules, next_cursor: page.next === null ? null : encodeCursor(page.next) });
  });

  router.get('/v1/schedules/:id', async (req, res) => {
    res.json(await deps.actions.get(scheduleIdParam(req), tenantOf(req)));
  });

  router.delete('/v1/schedules/:id', async (req, res) => {
    await deps.actions.delete(scheduleIdParam(req), tenantOf(req));
    req.log.info({ scheduleId: req.params.id }, 'schedule deleted');
    res.status(204).end();
  });

  router.post('/v1/schedules/:id/run', deps.limitIntake, async (req, res) => {
    const job = await deps.actions.run(scheduleIdParam(req), tenantOf(req));
    req.log.info({ scheduleId: req.params.id, jobId: job.id }, 'schedule run by request');
    res.status(202).location(`/v1/jobs/${job.id}`).json(job);
  });

  return router;
}
