import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerJobPaths, registerResultPaths } from '../jobs/jobs.openapi.js';
import { registerCommonComponents } from './common.js';
import { registerEventPaths } from './events.openapi.js';
import { registerOperationPaths } from './operations.openapi.js';
import { registerSchedulePaths } from './schedules.openapi.js';
import { registerUploadPaths } from '../uploads/uploads.openapi.js';

/** A route module's contribution to the document: it registers the paths it serves. */
export type PathRegistrar = (registry: OpenAPIRegistry) => void;

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/**
 * Every route module that serves HTTP registers its paths here; the route-coverage test fails
 * when the app serves a route no registrar describes.
 */
export const API_PATHS: readonly PathRegistrar[] = [
  registerOperationPaths,
  registerJobPaths,
  registerResultPaths,
  registerEventPaths,
  registerSchedulePaths,
  registerUploadPaths,
];

export function buildOpenApiDocument(registrars: readonly PathRegistrar[] = API_PATHS): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registerCommonComponents(registry);
  for (const register of registrars) register(registry);
  return new OpenApiGeneratorV31(registry.definitions, { sortComponents: 'alphabetically' }).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'batchscribe',
      version: '1.0.0',
      description:
        'Batch transcription over foxapi: submit lists of audio URLs as jobs, follow their progress, read the transcripts. ' +
        'Every `/v1` route needs `Authorization: Bearer <token>`; a job is visible only to its tenant. Errors are RFC 9457 problem+json.',
    },
    // Relative: the document describes the server it is read from, wherever that is deployed.
    servers: [{ url: '/', description: 'The batchscribe api serving this document' }],
    tags: [
      { name: 'Jobs', description: 'Submit, follow, act on jobs; read their results.' },
      { name: 'Schedules', description: 'Nightly (or any cron) jobs from a manifest URL.' },
      { name: 'Uploads', description: 'Resumable uploads of media files from disk (tus 1.0.0).' },
      { name: 'Operations', description: 'Probes, metrics and this document. No auth.' },
    ],
  });
}
