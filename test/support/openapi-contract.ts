import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { HttpResult } from './stack.js';

// ajv-formats is CommonJS: imported from ESM, the plugin is its `default` property.
const addFormats = ajvFormats.default;

interface HeaderObject {
  required?: boolean;
  schema?: { type?: string };
  $ref?: string;
}

interface MediaTypeObject {
  schema?: { 'x-ndjson-item'?: { $ref: string } };
}

/** The parts of an OpenAPI 3.1 document the checks below read. */
export interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, MediaTypeObject>; headers?: Record<string, HeaderObject> }> }>
  >;
  components: { schemas: Record<string, unknown>; headers?: Record<string, HeaderObject> };
}

/**
 * Headers with a meaning in this API: when a response carries one, the document must declare
 * it for that response (a header the server sends but the document omits is a violation too).
 */
const API_HEADERS = ['retry-after', 'ratelimit', 'ratelimit-policy', 'www-authenticate', 'location', 'idempotent-replayed'];

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
    this.templates = Object.keys(doc.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        literals: template.split('/').filter((seg) => seg && !seg.startsWith('{')).length,
      }))
      .sort((a, b) => b.literals - a.literals);
  }

  private readonly templates: Array<{ template: string; pattern: RegExp; literals: number }>;

  /**
   * The document's path template a request path (query string allowed) falls under, or
   * undefined when none does (an unknown route, a UI such as /docs). Literal segments win over
   * parameters, as routers match them.
   */
  templateOf(path: string): string | undefined {
    const bare = path.split('?')[0]!;
    return this.templates.find((t) => t.pattern.test(bare))?.template;
  }

  /**
   * Checks a response the way a validating proxy between the caller and the api would: when
   * `method path` is an operation of the document, throws unless `res` conforms; other
   * requests (unknown routes, UIs) are not the document's and pass.
   */
  expectConformsIfDocumented(method: string, path: string, res: HttpResult): void {
    const template = this.templateOf(path);
    if (template === undefined || !this.doc.paths[template]?.[method.toLowerCase()]) return;
    this.expectConforms(method, template, res);
  }

  /** Throws a readable error unless `res` is what the document promises for `method pathTemplate`. */
  expectConforms(method: string, pathTemplate: string, res: HttpResult): void {
    const where = `${method.toUpperCase()} ${pathTemplate} → ${res.status}`;
    const operation = this.doc.paths[pathTemplate]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${where}: the operation is not in the document`);
    const documented = operation.responses[String(res.status)];
    if (!documented) throw new Error(`${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    this.checkHeaders(where, documented.headers ?? {}, res.headers);
    if (!documented.content) {
      if (res.text !== '') throw new Error(`${where}: documented without a body, but one came`);
      return;
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!(mediaType in documented.content))
      throw new Error(`${where}: media type ${mediaType} not documented (${Object.keys(documented.content).join(', ')})`);
    const ref = `openapi#/${pointer('paths', pathTemplate, method.toLowerCase(), 'responses', String(res.status), 'content', mediaType, 'schema')}`;
    this.check(ref, bodyOf(res, mediaType), where);
    // A text stream of JSON lines names the schema of each line.
    const item = documented.content[mediaType]?.schema?.['x-ndjson-item']?.$ref;
    if (item !== undefined) {
      if (res.text !== '' && !res.text.endsWith('\n')) throw new Error(`${where}: the NDJSON stream does not end with a newline`);
      const lines = res.text.split('\n').filter(Boolean);
      lines.forEach((line, i) => this.check(`openapi${item}`, parseLine(line, `${where} line ${i + 1}`), `${where} line ${i + 1}`));
    }
  }

  /** Documented headers: required ones present, present ones valid; API headers sent must be documented. */
  private checkHeaders(where: string, documented: Record<string, HeaderObject>, actual: Headers): void {
    const names = new Set<string>();
    for (const [name, declared] of Object.entries(documented)) {
      names.add(name.toLowerCase());
      const header = this.resolveHeader(declared);
      const value = actual.get(name);
      if (value === null) {
        if (header.required) throw new Error(`${where}: required header ${name} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const numeric = header.schema.type === 'integer' || header.schema.type === 'number';
      const typed = numeric && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      const validate = this.ajv.compile(header.schema);
      if (!validate(typed)) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors)}`);
    }
    for (const name of API_HEADERS) {
      if (actual.get(name) !== null && !names.has(name))
        throw new Error(`${where}: header ${name} is sent but not documented for this response`);
    }
  }

  private resolveHeader(header: HeaderObject): HeaderObject {
    if (!header.$ref) return header;
    const name = header.$ref.replace('#/components/headers/', '');
    const found = this.doc.components.headers?.[name];
    if (!found) throw new Error(`header component ${name} is not in the document`);
    return found;
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

function parseLine(line: string, where: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new Error(`${where}: not a JSON object: ${line.slice(0, 200)}`);
  }
}

function bodyOf(res: HttpResult, mediaType: string): unknown {
  if (mediaType === 'application/x-ndjson') return res.text;
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
