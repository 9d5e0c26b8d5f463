import express, { type Router } from 'express';
import { describeConfig, SimConfigError, type SimOptions } from './config.js';
import { sendError } from './errors.js';
import type { SimRuntime } from './runtime.js';

/** Unauthenticated knobs for tests, benchmarks and the demo: `/__sim/*` and `/healthz`. */
export function controlRoutes(runtime: SimRuntime): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/__sim/stats', (_req, res) => {
    res.json(runtime.snapshot());
  });
  router.post('/__sim/reset', (_req, res) => {
    runtime.reset();
    res.status(204).end();
  });
  router.get('/__sim/config', (_req, res) => {
    res.json(describeConfig(runtime.config));
  });
  router.post('/__sim/config', express.json({ type: () => true }), (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendError(res, 400, 'invalid_request_error', 'The body must be a JSON object of simulator options.');
      return;
    }
    try {
      runtime.configure(nullsAsDefaults(body));
    } catch (err) {
      if (!(err instanceof SimConfigError)) throw err;
      sendError(res, 400, 'invalid_request_error', err.message);
      return;
    }
    res.json(describeConfig(runtime.config));
  });
  return router;
}

/** JSON has no `undefined`: `{"maxRps": null}` means "back to the default" (no cap). */
function nullsAsDefaults(body: object): Partial<SimOptions> {
  return Object.fromEntries(
    Object.entries(body).map(([key, value]: [string, unknown]) => [key, value === null ? undefined : value]),
  ) as Partial<SimOptions>;
}
