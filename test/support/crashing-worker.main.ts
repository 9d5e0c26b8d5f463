import { crashAt, isCrashPoint, CRASH_POINTS } from '../../apps/worker/src/pipeline/crash-points.js';
import { runWorkerProcess } from '../../apps/worker/src/worker-process.js';

/**
 * The crash tests' worker entry point: the production worker with one failpoint armed. The
 * failpoint is a test hook, not configuration: the worker's env schema does not know
 * BATCHSCRIBE_CRASH_AT, only this file reads it.
 */
const point = process.env.BATCHSCRIBE_CRASH_AT;
if (!isCrashPoint(point)) {
  process.stderr.write(`crashing-worker: BATCHSCRIBE_CRASH_AT must be one of ${CRASH_POINTS.join(', ')}\n`);
  process.exit(1);
}
delete process.env.BATCHSCRIBE_CRASH_AT;
void runWorkerProcess({ crash: crashAt(point) });
