import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { OpenApiDocument } from './document.js';

/** Relative, so /docs keeps working behind a proxy that mounts the API under a path. */
const DOCUMENT_URL = '../openapi.json';

/** A favicon of our own, inline, so the page neither shows swagger-ui's logo nor fetches one. */
const FAVICON = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M4 5h8M4 8h8M4 11h5" stroke="#fff" stroke-width="1.6"/></svg>',
)}`;

/** The page is batchscribe's reference: swagger-ui's branded top bar (logo, URL box) is hidden. */
const PAGE = {
  swaggerUrl: DOCUMENT_URL,
  customSiteTitle: 'batchscribe API reference',
  customfavIcon: FAVICON,
  customCss: '.swagger-ui .topbar { display: none }',
};

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
  router.get('/docs/', swaggerUi.setup(undefined, PAGE));
  return router;
}
