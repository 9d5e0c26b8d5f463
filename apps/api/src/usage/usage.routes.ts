import { Router } from 'express';
import { z } from 'zod';
import { USAGE_MAX_DAYS, utcDay, utcMonth, type UsageStore } from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { parseOr400, validationProblem } from '../http/validation.js';

export interface UsageRoutesDeps {
  usage: UsageStore;
  /** TENANT_BUDGETS: tenant → audio hours per calendar month (UTC). */
  budgets: ReadonlyMap<string, number>;
  clock?: () => number;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` that is a real calendar day. */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a day as YYYY-MM-DD', abort: true })
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && utcDay(t) === d;
  }, 'is not a calendar day')
  .meta({ example: '2026-11-01' });

export const usageQuery = z.object({
  from: day.optional().meta({ description: "First UTC day (inclusive). Default: the first day of `to`'s month." }),
  to: day.optional().meta({ description: 'Last UTC day (inclusive). Default: today (UTC).' }),
});

/** The days asked for, checked: `from` not after `to`, and no more than the counters keep. */
export function usageRange(query: z.infer<typeof usageQuery>, now: number): { from: string; to: string } {
  const to = query.to ?? utcDay(now);
  const from = query.from ?? `${to.slice(0, 7)}-01`;
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (days < 1) throw validationProblem('The query', [{ path: 'from', message: `must not be after to (${to})` }]);
  if (days > USAGE_MAX_DAYS) {
    throw validationProblem('The query', [
      { path: 'to', message: `must be at most ${USAGE_MAX_DAYS} days from from (${from}), counting both` },
    ]);
  }
  return { from, to };
}

/** `GET /v1/usage` (README, "Costs"): the caller's usage per UTC day, and its budget for this month. */
export function usageRoutes(deps: UsageRoutesDeps): Router {
  const router = Router();
  const clock = deps.clock ?? Date.now;

  router.get('/v1/usage', async (req, res) => {
    const tenant = tenantOf(req);
    const now = clock();
    const { from, to } = usageRange(parseOr400(usageQuery, req.query, 'The query'), now);
    const hours = deps.budgets.get(tenant);
    const month = utcMonth(now);
    const [data, usedMs] = await Promise.all([
      deps.usage.days(tenant, from, to),
      hours === undefined ? Promise.resolve(0) : deps.usage.monthAudioMs(tenant, month),
    ]);
    const usedHours = usedMs / 3_600_000;
    res.json({
      data,
      budget: hours === undefined ? null : { month, hours, used_hours: usedHours, remaining_hours: Math.max(0, hours - usedHours) },
    });
  });

  return router;
}
