import { nextUtcMonthStart, utcMonth } from '@batchscribe/shared';
import { later, type StepContext, type StepResult } from './step.js';

const HOUR_MS = 3_600_000;

/**
 * TENANT_BUDGETS (README, "Costs"): a batch whose tenant has already used its audio hours of the
 * calendar month (UTC, by the worker's clock) is not submitted. A batch's duration is known only
 * once it is transcribed, so the rule is about hours already used: the batch that crosses the
 * budget runs to its end, and so do batches already at foxapi. A held batch fails nothing and
 * holds no worker slot; it looks again every BUDGET_RECHECK_MS, or at the month's turn when that
 * comes first, so it goes on once the month turns, or once the budget is raised and the workers
 * restart with it. While it waits, the hold tells the api why (`waiting_reason: budget_exhausted`).
 * Returns null when the batch may go.
 */
export async function budgetGate(ctx: StepContext, tenant: string): Promise<StepResult | null> {
  const { deps, log } = ctx;
  const hours = deps.config.budgets.get(tenant);
  if (hours === undefined) return null;
  const now = deps.clock();
  const month = utcMonth(now);
  const usedMs = await deps.usage.monthAudioMs(tenant, month);
  if (usedMs < hours * HOUR_MS) {
    if (await deps.usage.release(tenant)) log.info({ tenant, month, hours, usedHours: usedMs / HOUR_MS }, 'budget allows submits again');
    return null;
  }
  const recheckMs = deps.config.budgetRecheckMs;
  // Refreshed by every held batch, and lapsing soon after the last one stopped looking.
  const fresh = await deps.usage.hold(tenant, { month, hours, usedHours: usedMs / HOUR_MS }, 2 * recheckMs + 5_000);
  if (fresh) log.warn({ tenant, month, hours, usedHours: usedMs / HOUR_MS }, "tenant's monthly budget is used up: its batches wait");
  // Jitter, so that the held batches do not all wake in the same instant.
  const delayMs = Math.min(recheckMs, nextUtcMonthStart(now) - now) + (deps.random ?? Math.random)() * 500;
  return later(delayMs, 'budget_exhausted');
}
