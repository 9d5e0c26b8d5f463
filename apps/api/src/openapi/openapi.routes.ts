import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { OpenApiDocument } from './document.js';

/** Relative, so /docs keeps working behind a proxy that mounts the API under a path. */
const DOCUMENT_URL = '../openapi.json';

/**
 * `GET /openapi.json` and the swagger-ui reference at `/docs/`, whose assets swagger-ui-express
 * serves from the installed swagger-ui-dist (no CDN: the docs work offline).
 */
export function openapiRoutes(document: OpenApiDocument): Router {
  const router = Router();
  const body = JSON.stringify(document);
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });

  // The page loads its assets by relative URL, which only resolve under `/docs/`.
  router.get('/docs', (req, res, next) => {
    if (req.originalUrl.split('?')[0] !== '/docs') return next();
    res.redirect(301, '/docs/');
  });
  // serveFiles (not `serve`) keeps the page's settings per app instead of in a module global.
  router.use('/docs', swaggerUi.serveFiles(undefined, { swaggerUrl: DOCUMENT_URL }));
  router.get('/docs/', swaggerUi.setup(undefined, { swaggerUrl: DOCUMENT_URL, customSiteTitle: 'batchscribe API reference' }));
  return router;
}
