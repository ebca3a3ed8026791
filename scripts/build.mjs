// Bundles each command (and oclif itself) with esbuild into dist/, sharing code through split
// chunks, so a command loads only what it uses. Start-up time is the point (docs/performance.md):
//  - dist/oclif.js is @oclif/core bundled: one file instead of ~150 CommonJS modules to resolve;
//    bin/run.js loads it, and the commands share its chunk (the same Command class).
//    The plugins (help, autocomplete, not-found) stay external and bring their own @oclif/core.
//  - @kubernetes/client-node is trimmed to the API methods src/ calls (scripts/build/slim-client-node.mjs).
//  - Node's built-in modules are required, not imported (scripts/build/builtins-via-require.mjs).
//  - @oclif/core's import-time engine check, dead code once bundled, is dropped with the semver
//    it loads (scripts/build/skip-oclif-engine-check.mjs).
//  - whitespace and syntax are minified (identifiers are kept: names show in stack traces).
//
//   node scripts/build.mjs [--outdir DIR] [--no-bundle-oclif] [--no-slim-client-node]
//                          [--no-builtins-via-require] [--no-minify]
//                          [--no-skip-engine-check]
// The --no-* switches rebuild the earlier steps, for measuring each one (bench/startup-steps.mjs).
import { build } from 'esbuild';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtinsViaRequire } from './build/builtins-via-require.mjs';
import { skipOclifEngineCheck } from './build/skip-oclif-engine-check.mjs';
import { slimClientNode } from './build/slim-client-node.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    outdir: { type: 'string', default: join(root, 'dist') },
    'no-bundle-oclif': { type: 'boolean', default: false },
    'no-slim-client-node': { type: 'boolean', default: false },
    'no-minify': { type: 'boolean', default: false },
    'no-builtins-via-require': { type: 'boolean', default: false },
    'no-skip-engine-check': { type: 'boolean', default: false },
  },
});
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });

const entryPoints = Object.fromEntries(
  walk(join(root, 'src/commands')).map((p) => [relative(join(root, 'src'), p).replace(/\.ts$/, ''), p]),
);
// bin/run.js rewrites kubectl-style argv before oclif sees it.
entryPoints['cli/argv'] = join(root, 'src/cli/argv.ts');
if (!opts['no-bundle-oclif']) entryPoints.oclif = join(root, 'scripts/build/oclif-entry.mjs');
const minify = !opts['no-minify'];

// Build beside the output directory and swap it in, so a CLI running from it never sees a half-written tree.
const dist = resolve(opts.outdir);
const out = `${dist}.tmp-${process.pid}`;
rmSync(out, { recursive: true, force: true });
const started = Date.now();
await build({
  entryPoints,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  minifyWhitespace: minify,
  minifySyntax: minify,
  chunkNames: 'chunks/[name]-[hash]',
  // typescript: oclif's tsconfig reader requires it only for development plugins (never here).
  external: opts['no-bundle-oclif'] ? ['@oclif/core', '@oclif/plugin-*'] : ['@oclif/plugin-*', 'typescript'],
  // Some bundled CommonJS dependencies call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __koncliRequire } from 'node:module'; const require = __koncliRequire(import.meta.url);" },
  plugins: [
    ...(opts['no-slim-client-node'] ? [] : [slimClientNode({ srcDir: join(root, 'src'), cacheDir: join(root, 'node_modules/.cache/koncli-slim-client-node') })]),
    ...(opts['no-builtins-via-require'] ? [] : [builtinsViaRequire()]),
    ...(opts['no-bundle-oclif'] || opts['no-skip-engine-check'] ? [] : [skipOclifEngineCheck()]),
  ],
  logLevel: 'warning',
  legalComments: 'none',
});
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
process.stderr.write(`built ${Object.keys(entryPoints).length} entry points into ${relative(root, dist) || dist}/ in ${Date.now() - started} ms\n`);
