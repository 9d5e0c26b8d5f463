import { ProblemError } from '../http/problem.js';

export interface StreamSlotsOptions {
  /** Open streams one tenant may hold on this process. */
  perTenant: number;
  /** Open streams this process serves, all tenants together. */
  perProcess: number;
  /** Seconds a refused caller is told to wait. */
  retryAfterS?: number;
}

/**
 * Counts the open event streams of this api process. Each holds a socket, a timer and a Redis
 * read per change, so without a bound one tenant's runaway dashboard (a stream per job, never
 * closed) would take the process's sockets from everyone. Beyond a tenant's share the answer
 * is 429 (that tenant should close streams it no longer reads); beyond the process's, 503
 * (another replica may have room).
 */
export class StreamSlots {
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  constructor(private readonly opts: StreamSlotsOptions) {}

  /** Takes a slot for `tenant` and returns the function that gives it back, or throws the refusal. */
  acquire(tenant: string): () => void {
    const retryAfter = { 'retry-after': String(this.opts.retryAfterS ?? 5) };
    const mine = this.byTenant.get(tenant) ?? 0;
    if (mine >= this.opts.perTenant) {
      throw new ProblemError(
        'rate-limited',
        `Tenant ${tenant} already has ${mine} event streams open on this server (SSE_MAX_STREAMS_PER_TENANT); close one first.`,
        undefined,
        retryAfter,
      );
    }
    if (this.total >= this.opts.perProcess) {
      throw new ProblemError(
        'unavailable',
        'This server is serving as many event streams as it may; try again after Retry-After.',
        undefined,
        retryAfter,
      );
    }
    this.byTenant.set(tenant, mine + 1);
    this.total += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total -= 1;
      const left = (this.byTenant.get(tenant) ?? 1) - 1;
      if (left > 0) this.byTenant.set(tenant, left);
      else this.byTenant.delete(tenant);
    };
  }

  /** Open streams, of one tenant or of all. */
  open(tenant?: string): number {
    return tenant === undefined ? this.total : (this.byTenant.get(tenant) ?? 0);
  }
}
