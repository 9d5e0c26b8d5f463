// Bundles the CLI into self-contained ESM files (every dependency inlined), so the package
// installs with no dependencies: `dist/batchscribe.mjs` is the `batchscribe` executable,
// `dist/index.js` the programmatic entry (`runCli`).
import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = process.argv[2] ?? `${root}dist`;

// commander and cli-progress are CommonJS and `require` Node built-ins; an ESM bundle has no
// `require` of its own, so give it one.
const requireShim = "import { createRequire as __bsCreateRequire } from 'node:module'; const require = __bsCreateRequire(import.meta.url);";

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  conditions: ['source'],
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { batchscribe: `${root}src/main.ts` },
  outdir,
  outExtension: { '.js': '.mjs' },
  banner: { js: requireShim },
});
await build({ ...common, entryPoints: { index: `${root}src/index.ts` }, outdir, banner: { js: requireShim } });
await chmod(`${outdir}/batchscribe.mjs`, 0o755);
