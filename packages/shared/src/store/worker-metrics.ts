import type { Redis } from 'ioredis';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** Only the service's own metrics travel; process metrics (CPU, heap) stay on each worker's port. */
const SHARED_PREFIX = 'batchscribe_';

/** KEYS: snapshots hash, workers ZSET (heartbeat times). ARGV: oldest heartbeat kept. Returns how many went. */
const PRUNE = `
local dropped = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  local beat = redis.call('ZSCORE', KEYS[2], id)
  if not beat or tonumber(beat) < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], id)
    dropped = dropped + 1
  end
end
return dropped
`;

interface Snapshot {
  at: number;
  metrics: MetricsJson;
}

/**
 * Workers' metrics, kept in Redis so the api's `/metrics` can show the whole service: each worker
 * writes a snapshot of its registry with its heartbeat, and the api sums the fresh ones
 * (prom-client's AggregatorRegistry, as in its cluster mode). Per-worker series stay on each
 * worker's own WORKER_METRICS_PORT.
 */
interface MetricsScripts {
  bsWorkerMetricsPrune(snapshots: string, workers: string, oldest: number): Promise<number>;
}

export class WorkerMetricsStore {
  private readonly redis: Redis & MetricsScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
  ) {
    this.redis = withScripts<MetricsScripts>(redis, { bsWorkerMetricsPrune: { keys: 2, lua: PRUNE } });
  }

  async publish(workerId: string, registry: Registry, now: number): Promise<void> {
    const metrics = (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith(SHARED_PREFIX));
    await this.redis.hset(this.keys.workerMetrics, workerId, JSON.stringify({ at: now, metrics } satisfies Snapshot));
  }

  async withdraw(workerId: string): Promise<void> {
    await this.redis.hdel(this.keys.workerMetrics, workerId);
  }

  /** Snapshots written within `maxAgeMs`; older ones (workers gone without a goodbye) are dropped. */
  async fresh(now: number, maxAgeMs: number): Promise<MetricsJson[]> {
    const all = await this.redis.hgetall(this.keys.workerMetrics);
    const fresh: MetricsJson[] = [];
    const stale: string[] = [];
    for (const [workerId, raw] of Object.entries(all)) {
      const snapshot = parseSnapshot(raw);
      if (snapshot && now - snapshot.at <= maxAgeMs) fresh.push(snapshot.metrics);
      else stale.push(workerId);
    }
    if (stale.length > 0) await this.redis.hdel(this.keys.workerMetrics, ...stale);
    return fresh;
  }

  /**
   * Drops the snapshots of workers whose last heartbeat (in the workers set) is older than
   * `maxAgeMs`, or gone. Each heartbeat runs it, so a worker that died without a goodbye leaves
   * no snapshot behind even when nobody scrapes the api's /metrics; it reads worker ids and
   * heartbeat times only, not the snapshots themselves.
   */
  async prune(now: number, maxAgeMs: number): Promise<number> {
    return Number(await this.redis.bsWorkerMetricsPrune(this.keys.workerMetrics, this.keys.workers, now - maxAgeMs));
  }
}

function parseSnapshot(raw: string): Snapshot | null {
  try {
    const parsed = JSON.parse(raw) as Partial<Snapshot>;
    return typeof parsed.at === 'number' && Array.isArray(parsed.metrics) ? (parsed as Snapshot) : null;
  } catch {
    return null;
  }
}

/**
 * `own` plus the sum of the workers' snapshots. A metric `own` already has (a gauge both read
 * from Redis, say) is taken from `own` alone, so nothing is counted twice.
 */
export function withWorkerMetrics(own: Registry, workers: readonly MetricsJson[]): Registry {
  const foreign = workers.map((metrics) => metrics.filter((m) => own.getSingleMetric(m.name) === undefined));
  if (foreign.every((metrics) => metrics.length === 0)) return own;
  // Both registries use prom-client's default (Prometheus text) content type, as merge requires.
  return Registry.merge([own, AggregatorRegistry.aggregate(foreign)]);
}
