import type { RequestHandler } from 'express';
import { ProblemError } from './problem.js';

export interface IntakeAdmissionOptions {
  /** Bytes of job lists this process takes in at once: request bodies, and manifests `run` downloads. */
  budgetBytes: number;
  /** The body limit: what an undeclared (chunked) body may grow to, and the most one request can cost. */
  maxBodyBytes: number;
  /** Seconds a refused caller is told to wait. */
  retryAfterS?: number;
}

/**
 * Bounds the job lists being parsed and written at once. A 100,000-URL job costs about 13× its
 * body in heap while it is taken in, so a burst of large jobs (a tenant's 120 a minute, or
 * several tenants' nightly uploads at once) would otherwise grow the api until the heap limit
 * kills it, with every other request in flight. Beyond the budget the caller gets 503 with
 * Retry-After before a byte of its body is read; nothing is written. One request is always
 * admitted when none is in flight, so a body larger than the budget still gets through alone.
 * A manifest fetched by `POST /v1/schedules/{id}/run` is the same kind of list arriving by
 * another door, so it reserves from the same budget.
 */
export class IntakeAdmission {
  private inFlight = 0;
  private readonly retryAfter: string;

  constructor(private readonly opts: IntakeAdmissionOptions) {
    this.retryAfter = String(opts.retryAfterS ?? 2);
  }

  /** Takes `bytes` from the budget; the returned release gives them back (once). */
  reserve(bytes: number): () => void {
    if (this.inFlight > 0 && this.inFlight + bytes > this.opts.budgetBytes) {
      throw new ProblemError(
        'unavailable',
        'The api is taking in other large jobs right now; send this one again after Retry-After.',
        undefined,
        {
          'retry-after': this.retryAfter,
        },
      );
    }
    this.inFlight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= bytes;
    };
  }

  /** For routes that take a job list as their body: reserves its declared size until the response ends. */
  readonly middleware: RequestHandler = (req, res, next) => {
    const declared = Number(req.get('content-length'));
    const cost = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, this.opts.maxBodyBytes) : this.opts.maxBodyBytes;
    let release: () => void;
    try {
      release = this.reserve(cost);
    } catch (err) {
      // The unread body is left to Node: the response closes the connection after it.
      res.set('connection', 'close');
      next(err);
      return;
    }
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
