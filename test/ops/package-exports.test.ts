import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/processes.js';

interface ExportTarget {
  source?: string;
  types?: string;
  default?: string;
}

const packageDirs = ['apps', 'packages'].flatMap((group) =>
  readdirSync(join(REPO_ROOT, group)).map((name) => join(REPO_ROOT, group, name)),
);
const withExports = packageDirs
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({
    dir,
    exports: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, ExportTarget> }).exports,
  }))
  .filter((pkg): pkg is { dir: string; exports: Record<string, ExportTarget> } => pkg.exports !== undefined);

describe('package exports', () => {
  it.each(withExports.map((pkg) => [pkg.dir.slice(REPO_ROOT.length), pkg] as const))(
    'when %s is imported by its exports, then every source file exists (and, once built, every dist file)',
    (_name, pkg) => {
      for (const target of Object.values(pkg.exports)) {
        expect(target.source && existsSync(join(pkg.dir, target.source))).toBe(true);
        // dist exists only after `pnpm build`; when it does, the built targets must be in it.
        if (!existsSync(join(pkg.dir, 'dist'))) continue;
        for (const built of [target.types, target.default])
          if (built) expect([built, existsSync(join(pkg.dir, built))]).toEqual([built, true]);
      }
    },
  );
});
