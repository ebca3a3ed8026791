// The npm build: bundles koncli's entry (src/cli/entry.ts, which bin/run.js calls) and each command
// with esbuild into dist/, sharing code (@oclif/core, client-node, koncli's modules) through split
// chunks, so a command loads only what it uses and nothing is resolved in node_modules at run time
// but oclif's help, autocomplete and not-found plugins. Start-up time is the point
// (docs/performance.md); npm run package builds the single executable from the same sources.
// Whitespace and syntax are minified (identifiers are kept: names show in stack traces).
//
//   node scripts/build.mjs [--outdir DIR]
import { build } from 'esbuild';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    outdir: { type: 'string', default: join(root, 'dist') },
  },
});
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });

const entryPoints = Object.fromEntries(walk(join(root, 'src/commands')).map((p) => [relative(join(root, 'src'), p).replace(/\.ts$/, ''), p]));
entryPoints.entry = join(root, 'src/cli/entry.ts');
// `lease run`'s watchdog, which bin/run.js starts without loading the entry (src/supervise/watchdog.ts).
entryPoints.watchdog = join(root, 'src/supervise/watchdog.ts');
// bin/dev.js rewrites kubectl-style argv itself (it runs oclif in development mode).
entryPoints['cli/argv'] = join(root, 'src/cli/argv.ts');

// Build beside the output directory and swap it in, so a CLI running from it never sees a half-written tree.
// dist/bin and dist/exe (npm run package) are kept.
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
  minifyWhitespace: true,
  minifySyntax: true,
  loader: { '.yaml': 'text' },
  chunkNames: 'chunks/[name]-[hash]',
  // typescript: oclif's tsconfig reader requires it only for development plugins (never here).
  external: ['@oclif/plugin-*', 'typescript'],
  // Some bundled CommonJS dependencies call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __koncliRequire } from 'node:module'; const require = __koncliRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
for (const keep of ['bin', 'exe']) if (existsSync(join(dist, keep))) renameSync(join(dist, keep), join(out, keep));
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
process.stderr.write(`built ${Object.keys(entryPoints).length} entry points into ${relative(root, dist) || dist}/ in ${Date.now() - started} ms\n`);
