import ts from 'typescript';
import { createKeyLayout, type KeyLayout } from '../../packages/shared/src/store/keys.js';

/**
 * The rule `pnpm check` enforces: Redis state logic lives in packages/shared/src/store. Outside
 * it, production code (apps/*\/src, packages/*\/src) may not
 *  - send Lua (`.eval(`, `.evalsha(`, `defineCommand`, a string holding `redis.call`/`redis.pcall`),
 *  - send raw commands (`redis.call(...)` of ioredis),
 *  - build a key: use a KeyLayout member (`keys.job(…)`, `keys.inflight`), or spell a fragment of
 *    the layout (`':retry'`, `':foxapi:inflight'`, …) in a string.
 * Two layout members are names other parts need, not keys of our state: `bullPrefix` (BullMQ's
 * queues and workers) and `jobEvents` (the pub/sub channel the api subscribes to).
 *
 * Tests and benchmarks (test/, bench/, packages/*\/test) may use the key layout and plain
 * commands to set up and inspect state (a damaged record, a key count, MEMORY USAGE), but send
 * no Lua of their own: they run the store's scripts through the store (or its exported script
 * helpers, such as batchScripts, to pass arguments the store would never send).
 */

export type Scope = 'production' | 'test';

export interface Violation {
  file: string;
  line: number;
  what: string;
}

const ALLOWED_MEMBERS = new Set<keyof KeyLayout>(['bullPrefix', 'jobEvents']);

const layout = createKeyLayout('Q');
const MEMBERS = new Set(Object.keys(layout).filter((m) => !ALLOWED_MEMBERS.has(m as keyof KeyLayout)));

/** The fixed fragments of every key the layout makes (what follows the hash tag, split at the arguments). */
const FRAGMENTS: string[] = (() => {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(layout) as Array<[string, unknown]>) {
    if (ALLOWED_MEMBERS.has(name as keyof KeyLayout) || name === 'batches') continue;
    const key = typeof value === 'function' ? String((value as (...a: string[]) => unknown)('\u0000', '\u0000')) : String(value);
    for (const part of key.replace('{Q}', '').split('\u0000')) if (part.length >= 3) out.add(part);
  }
  return [...out];
})();

const LUA_CALL = /redis\.p?call\s*\(/;

function isKeysObject(expr: ts.Expression): boolean {
  if (ts.isIdentifier(expr)) return /^(keys|layout)$/i.test(expr.text);
  if (ts.isPropertyAccessExpression(expr)) return /^(keys|layout)$/i.test(expr.name.text);
  return false;
}

export function findViolations(file: string, text: string, scope: Scope): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Violation[] = [];
  const report = (node: ts.Node, what: string) =>
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what });
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text;
      if (name === 'eval' || name === 'evalsha' || name === 'defineCommand') report(node, `${name} (Lua belongs in the store)`);
      if (scope === 'production' && name === 'call' && /redis$/i.test(node.expression.getText(source))) {
        report(node, 'a raw Redis command (redis.call) outside the store');
      }
      if (scope === 'production' && MEMBERS.has(name) && isKeysObject(node.expression)) {
        report(node, `a key built with the key layout (${node.expression.getText(source)}.${name})`);
      }
    }
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const value = node.text;
      if (LUA_CALL.test(value)) report(node, 'Lua (redis.call in a string) outside the store');
      if (scope === 'production') {
        const fragment = FRAGMENTS.find((f) => value.includes(f));
        if (fragment) report(node, `a key name spelled out ('${fragment}')`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
