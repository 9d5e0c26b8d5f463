import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { HttpResult } from './stack.js';

// ajv-formats is CommonJS: imported from ESM, the plugin is its `default` property.
const addFormats = ajvFormats.default;

/** The parts of an OpenAPI 3.1 document the checks below read. */
export interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}

const pointer = (...segments: string[]) => segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks real responses against the document: the status must be documented for the
 * operation, the media type too, and the body must match its schema (2020-12, as OpenAPI 3.1
 * uses). Schemas are referenced inside the document, so its `$ref`s resolve as they are.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDoc) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, 'openapi');
  }

  /** Throws a readable error unless `res` is what the document promises for `method pathTemplate`. */
  expectConforms(method: string, pathTemplate: string, res: HttpResult): void {
    const where = `${method.toUpperCase()} ${pathTemplate} → ${res.status}`;
    const operation = this.doc.paths[pathTemplate]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${where}: the operation is not in the document`);
    const documented = operation.responses[String(res.status)];
    if (!documented) throw new Error(`${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    if (!res.headers.get('x-request-id')) throw new Error(`${where}: no X-Request-Id header`);
    if (!documented.content) {
      if (res.text !== '') throw new Error(`${where}: documented without a body, but one came`);
      return;
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!(mediaType in documented.content))
      throw new Error(`${where}: media type ${mediaType} not documented (${Object.keys(documented.content).join(', ')})`);
    const ref = `openapi#/${pointer('paths', pathTemplate, method.toLowerCase(), 'responses', String(res.status), 'content', mediaType, 'schema')}`;
    const bodies =
      mediaType === 'application/x-ndjson'
        ? res.text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as unknown)
        : [bodyOf(res, mediaType)];
    for (const body of bodies) this.check(ref, body, where);
  }

  /** Validates a value against a named component schema (e.g. the Job inside an SSE event). */
  expectSchema(component: string, value: unknown): void {
    this.check(`openapi#/${pointer('components', 'schemas', component)}`, value, `schema ${component}`);
  }

  private check(ref: string, value: unknown, where: string): void {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    if (!validate(value)) {
      throw new Error(
        `${where}: body does not match the document:\n${this.ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${JSON.stringify(value).slice(0, 2000)}`,
      );
    }
  }
}

function bodyOf(res: HttpResult, mediaType: string): unknown {
  return /json$/.test(mediaType) && typeof res.body === 'string' ? (JSON.parse(res.body) as unknown) : res.body;
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
  rawPath?: string | string[];
}

/**
 * Every `METHOD /path` the Express app routes, in OpenAPI path syntax, walking nested routers.
 * Mount points in `ignore` (UIs such as the dashboard and /docs) are left out.
 */
export function expressRoutes(app: object, ignore: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (stack: RouterLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = prefix + layer.route.path;
        if (ignore.some((i) => path === i || path.startsWith(`${i}/`))) continue;
        for (const method of Object.keys(layer.route.methods))
          if (method !== '_all') found.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        if (ignore.includes(prefix + mount)) continue;
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

export function documentedOperations(doc: OpenApiDoc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}
