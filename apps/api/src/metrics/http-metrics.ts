import type { Request, RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';

/**
 * The route label is Express's route pattern (`/v1/jobs/:id`), never the raw path: one series
 * per route, not one per job id. Requests no route matched share one label.
 */
export function routeLabel(req: Request): string {
  const pattern: unknown = req.route?.path;
  if (typeof pattern === 'string') return req.baseUrl + pattern;
  // A mounted app or static files (bull-board, swagger-ui assets): the mount point.
  return req.baseUrl || '(unmatched)';
}

/** Times every request from arrival to the last byte written, by method, route and status. */
export function httpMetrics(registry: Registry): RequestHandler {
  const duration = new Histogram({
    name: 'batchscribe_http_request_duration_seconds',
    help: 'HTTP requests served by the API, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () => end({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) }));
    next();
  };
}
