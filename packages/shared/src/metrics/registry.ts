import { Registry, collectDefaultMetrics } from 'prom-client';

const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * A Prometheus registry for one process, with Node's default process metrics. Each composition
 * root makes its own (never prom-client's global one), so tests can run an api and a worker in
 * one process and read each one's metrics apart.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges `_total`, which promtool's lint rejects (a suffix reserved
  // for counters); each is the sum over `type` of its sibling without the suffix, kept.
  for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(name);
  return registry;
}
