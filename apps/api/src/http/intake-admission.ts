import type { RequestHandler } from 'express';
import { ProblemError } from './problem.js';

export interface IntakeAdmissionOptions {
  /** Request bytes this process takes in at once (declared Content-Length, or maxBodyBytes when undeclared). */
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
 */
export function intakeAdmission(opts: IntakeAdmissionOptions): RequestHandler {
  let inFlight = 0;
  const retryAfter = String(opts.retryAfterS ?? 2);
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    const cost = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, opts.maxBodyBytes) : opts.maxBodyBytes;
    if (inFlight > 0 && inFlight + cost > opts.budgetBytes) {
      // The unread body is left to Node: the response closes the connection after it.
      res.set('connection', 'close');
      next(
        new ProblemError(
          'unavailable',
          'The api is taking in other large jobs right now; send this one again after Retry-After.',
          undefined,
          { 'retry-after': retryAfter },
        ),
      );
      return;
    }
    inFlight += cost;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= cost;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
