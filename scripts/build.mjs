// Bundles each command (and the hooks) with esbuild into dist/, sharing code through split chunks,
// so a command loads only what it uses. @oclif/core and its plugins stay external: oclif loads them.
import { build } from 'esbuild';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });

const entryPoints = Object.fromEntries(
  walk(join(root, 'src/commands')).map((p) => [relative(join(root, 'src'), p).replace(/\.ts$/, ''), p]),
);

// Build beside dist/ and swap it in, so a CLI running from dist/ never sees a half-written tree.
const out = join(root, `dist.tmp-${process.pid}`);
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
  minifyWhitespace: false,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@oclif/core', '@oclif/plugin-*'],
  // Some bundled CommonJS dependencies call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __koncliRequire } from 'node:module'; const require = __koncliRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
renameSync(out, join(root, 'dist'));
rmSync(old, { recursive: true, force: true });
process.stderr.write(`built ${Object.keys(entryPoints).length} commands into dist/ in ${Date.now() - started} ms\n`);
