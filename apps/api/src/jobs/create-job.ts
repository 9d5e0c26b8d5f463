/**
 * Job creation lives in @batchscribe/shared, so the worker's schedule fires write jobs exactly
 * as intake does; the api keeps this module as its import point.
 */
export { chunkIndexes, createJob, newJobId, type CreateJobDeps, type CreateJobExtra } from '@batchscribe/shared';
