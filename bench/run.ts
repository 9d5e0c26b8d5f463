import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/lib/processes.js';
import { benchRedis, type BenchRedis } from './lib/bench-redis.js';
import { machineInfo } from './lib/machine.js';
import { resultTable, writeResults, type BenchResult } from './lib/results.js';
import { intakeBench } from './intake.bench.js';
import { upstreamBench } from './upstream.bench.js';
import { pollingBench } from './polling.bench.js';
import { scaleOutBench } from './scale-out.bench.js';
import { readsBench } from './reads.bench.js';
import { meetingsBench } from './meetings.bench.js';
import { parkedBench } from './parked.bench.js';
import { actionsBench } from './actions.bench.js';
import { uploadsBench } from './uploads.bench.js';
import { reuseBench } from './reuse.bench.js';

/**
 * `pnpm bench [name…]`: every benchmark of issue 6 (or the named ones) against one Redis,
 * each figure next to its floor or baseline measured in the same run. Writes
 * bench/results/<figure>.json and bench/results/summary.md; prints the table.
 */
const BENCHMARKS: Record<string, (redis: BenchRedis) => Promise<BenchResult[]>> = {
  intake: intakeBench,
  upstream: upstreamBench,
  polling: pollingBench,
  'scale-out': scaleOutBench,
  reads: readsBench,
  meetings: meetingsBench,
  parked: parkedBench,
  actions: actionsBench,
  uploads: uploadsBench,
  reuse: reuseBench,
};

const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/**
 * The services run as built (`pnpm build`, then the dist entry points `pnpm start:*` runs), so
 * the figures are production's, not tsx's; BENCH_SKIP_BUILD=1 reuses an existing build.
 */
function buildServices(): void {
  if (process.env.BENCH_SKIP_BUILD === '1') return;
  process.stdout.write('building (pnpm build; BENCH_SKIP_BUILD=1 skips) …\n');
  const built = spawnSync('pnpm', ['-s', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error(`pnpm build failed (${built.status ?? built.signal})`);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in BENCHMARKS));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  const selected = wanted.length > 0 ? wanted : Object.keys(BENCHMARKS);

  buildServices();
  const redis = await benchRedis();
  const machine = machineInfo(redis.version);
  process.stdout.write(
    `batchscribe bench — ${selected.join(', ')}\nmachine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, node ${machine.node}, redis ${machine.redis}${redis.spawned ? ' (spawned)' : ` at ${redis.url}`}\n\n`,
  );
  const started = Date.now();
  const loadBefore = load();
  const results: BenchResult[] = [];
  try {
    for (const name of selected) {
      const t0 = Date.now();
      process.stdout.write(`• ${name} …\n`);
      const figures = await BENCHMARKS[name]!(redis);
      writeResults(RESULTS_DIR, figures);
      results.push(...figures);
      process.stdout.write(`${resultTable(figures).text}\n  (${Math.round((Date.now() - t0) / 1000)} s)\n\n`);
    }
  } finally {
    await redis.stop();
  }
  const table = resultTable(results);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const summary = [
    `Machine: \`nproc\` = ${machine.nproc} (${machine.cpu}); ${machine.memory}; Node ${machine.node}; Redis ${machine.redis}; ${machine.platform}.`,
    `Run: ${new Date().toISOString()}, ${minutes} min, benchmarks: ${selected.join(', ')}; load average (1, 5, 15 min) before ${loadBefore}, after ${load()}.`,
    '',
    table.markdown,
    '',
  ].join('\n');
  writeFileSync(join(RESULTS_DIR, 'summary.md'), summary);
  process.stdout.write(`${table.text}\n\nwall time ${minutes} min; results in bench/results/\n`);
  if (results.some((r) => r.pass === false))
    process.stdout.write('some targets are missed (pass: NO); see details in bench/results/<name>.json\n');
}

// Ctrl-C: exit through the 'exit' handlers, which stop the service processes.
process.once('SIGINT', () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
