// npm run package: dist/bin/koncli, one executable holding Node and koncli, that starts from a V8
// start-up snapshot (docs/performance.md, "The single executable"). Three steps:
//  1. esbuild bundles src/sea/main.ts (koncli's commands, oclif and its help and not-found plugins,
//     client-node) into one CommonJS script, dist/sea/koncli.cjs. Node's http, https, tls and http2
//     and the packages that load them at import load on first use (scripts/build/load-on-use.mjs).
//  2. Node runs that script to build the snapshot into a single-executable blob (sea-config
//     "useSnapshot": the script's top level runs once, here; each start runs its deserialize main).
//  3. postject injects the blob into a copy of this Node binary (Node's documented SEA recipe).
// Run it with Node 24 (node_modules/.bin/node, which npm run puts first on PATH): the executable
// is a copy of the Node that runs this script.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnUse } from './build/load-on-use.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'sea');
const exe = join(root, 'dist', 'bin', 'koncli');
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
mkdirSync(join(root, 'dist', 'bin'), { recursive: true });

// 'koncli:commands': every src/commands/**.ts by oclif id (lease/status.ts -> lease:status), and
// every other module of src/ imported for its evaluation, so modules that commands import on use
// are evaluated into the snapshot too.
const commandsDir = join(root, 'src', 'commands');
const walk = (dir) =>
  readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.ts') && !f.endsWith('.d.ts') ? [join(dir, f)] : [],
  );
const commandFiles = walk(commandsDir).sort();
const otherModules = ['cli', 'core', 'kube', 'supervise'].flatMap((d) => walk(join(root, 'src', d))).sort();
const commandsModule = {
  name: 'koncli-commands',
  setup(b) {
    b.onResolve({ filter: /^koncli:commands$/ }, () => ({ path: 'koncli:commands', namespace: 'koncli-commands' }));
    b.onLoad({ filter: /.*/, namespace: 'koncli-commands' }, () => ({
      resolveDir: commandsDir,
      loader: 'js',
      contents: [
        ...otherModules.map((f) => `import ${JSON.stringify(f)};`),
        ...commandFiles.map((f, i) => `import c${i} from ${JSON.stringify(f)};`),
        `export const commands = {`,
        ...commandFiles.map((f, i) => `  ${JSON.stringify(relative(commandsDir, f).replace(/\.ts$/, '').split('/').join(':'))}: c${i},`),
        `};`,
      ].join('\n'),
    }));
  },
};

const NATIVE = /^(node:)?(https?|tls|http2|_http_\w+|_tls_\w+)$/;
const GUARD = `{ const real = require, v8 = real('node:v8'), native = ${NATIVE};
require = (id) => { if (native.test(id) && v8.startupSnapshot.isBuildingSnapshot()) throw new Error(id + ' loaded while building the start-up snapshot: load it on use (scripts/package.mjs)'); return real(id); }; }`;
const script = join(out, 'koncli.cjs');
const bundled = await build({
  entryPoints: [join(root, 'src', 'sea', 'main.ts')],
  metafile: true,
  outfile: script,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  minifyWhitespace: true,
  minifySyntax: true,
  loader: { '.yaml': 'text' },
  external: ['typescript'], // oclif requires it only for development plugins (never here)
  plugins: [
    commandsModule,
    loadOnUse(['http', 'node:http', 'https', 'node:https', 'tls', 'node:tls', 'http2', 'node:http2', 'undici', 'hpagent', 'socks-proxy-agent']),
  ],
  // While the snapshot is built, loading one of those modules is a build error naming who did
  // (V8 would only abort with "CheckGlobalAndEternalHandles failed").
  banner: { js: GUARD },
  logLevel: 'warning',
  legalComments: 'none',
});

writeFileSync(join(out, 'meta.json'), JSON.stringify(bundled.metafile)); // what the script holds: npx esbuild-visualizer, or bench/
const blob = join(out, 'koncli.blob');
const seaConfig = join(out, 'sea-config.json');
writeFileSync(seaConfig, JSON.stringify({ main: script, output: blob, useSnapshot: true, disableExperimentalSEAWarning: true }, null, 2));
// Packages that read the environment at import (ansis's colour support, debug's DEBUG) keep what
// they saw while the snapshot was built: build it in a fixed environment, not the builder's (CI=true
// made ansis colour oclif's own warnings for ever). See docs/performance.md.
const { DEBUG, FORCE_COLOR, ...builderEnv } = process.env;
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...builderEnv, NO_COLOR: '1', TERM: 'dumb' },
});

rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const mb = (f) => (statSync(f).size / 1e6).toFixed(1);
process.stderr.write(`packaged ${relative(root, exe)} (${mb(exe)} MB; snapshot blob ${mb(blob)} MB, script ${mb(script)} MB) in ${Date.now() - started} ms\n`);
