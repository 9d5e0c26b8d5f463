import express, { type Express } from 'express';
import { handleErrors } from './api.middleware.js';
import { controlRoutes } from './control.routes.js';
import { sendError } from './errors.js';
import { foxapiRoutes } from './foxapi.routes.js';
import type { SimRuntime } from './runtime.js';

export function buildApp(runtime: SimRuntime): Express {
  const app = express();
  app.disable('x-powered-by');
  // Poll answers change with time; without ETags no client can be handed a stale 304.
  app.set('etag', false);
  app.use(controlRoutes(runtime));
  app.use(foxapiRoutes(runtime));
  app.use((_req, res) => sendError(res, 404, 'not_found', 'Unknown endpoint.'));
  app.use(handleErrors);
  return app;
}
