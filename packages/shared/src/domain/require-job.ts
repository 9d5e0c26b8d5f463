import { jobNotFound } from './errors.js';

/** Anything that reads a job for a tenant: null when it does not exist or is another tenant's. */
export interface JobLookup<T> {
  getJob(jobId: string, tenant: string): Promise<T | null>;
}

/** The tenant's job, or the one NotFoundError ("No such job.") every job route and action throws. */
export async function requireJob<T>(reader: JobLookup<T>, jobId: string, tenant: string): Promise<T> {
  const job = await reader.getJob(jobId, tenant);
  if (job === null) throw jobNotFound();
  return job;
}
