import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findViolations, type Scope } from './lib/store-boundary.js';

/** `pnpm check:store`: fails when Redis state logic appears outside packages/shared/src/store (see lib/store-boundary.ts). */

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.split('/').includes('node_modules'))
    .map((f) => join(dir, f));
}
const workspaces = ['apps', 'packages'].flatMap((root) => readdirSync(root).map((name) => join(root, name)));
const production = workspaces.flatMap((w) => tsFiles(join(w, 'src'))).filter((f) => !f.startsWith('packages/shared/src/store/'));
const tests = [...tsFiles('test'), ...tsFiles('bench'), ...workspaces.flatMap((w) => tsFiles(join(w, 'test')))];

const files: Array<[string, Scope]> = [
  ...production.map((f): [string, Scope] => [f, 'production']),
  ...tests.map((f): [string, Scope] => [f, 'test']),
];
const violations = files.flatMap(([file, scope]) => findViolations(file, readFileSync(file, 'utf8'), scope));
for (const v of violations) process.stderr.write(`${v.file}:${v.line}: ${v.what}\n`);
if (violations.length > 0) {
  process.stderr.write(`\n${violations.length} place(s) hold Redis state logic outside packages/shared/src/store.\n`);
  process.exit(1);
}
process.stdout.write(`store boundary: ${files.length} files checked; no Redis state logic outside the store\n`);
