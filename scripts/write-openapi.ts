import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildOpenApiDocument } from '../apps/api/src/openapi/document.js';

/**
 * Writes the OpenAPI document the api serves at /openapi.json to a file (default
 * build/openapi.json), for tools that read a file: `pnpm lint:openapi` runs Redocly on it.
 */
const target = resolve(process.argv[2] ?? 'build/openapi.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
