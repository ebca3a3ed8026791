// npm run package: dist/bin/koncli, one executable holding the Bun runtime and koncli
// (docs/performance.md, "The single executable"). Two steps:
//  1. esbuild bundles src/exe/main.ts into one CommonJS file, dist/exe/koncli.cjs: koncli's
//     commands, oclif with its help and not-found plugins, client-node. Every import() stays a
//     function the bundle calls on first use, so a start evaluates only what its command needs.
//     Two modules are generated here: 'koncli:plugins' (each oclif plugin's package.json and
//     command manifest, read now, and a loader per command) and 'koncli:watchdog'.
//  2. `bun build --compile --bytecode --minify` (Bun from the `bun` dev dependency) compiles that
//     file to bytecode and appends it to a copy of the Bun runtime. Bun's bytecode needs a
//     CommonJS entry without top-level await, which is why esbuild writes CommonJS.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'exe');
const exe = join(root, 'dist', 'bin', 'koncli');
const bun = join(root, 'node_modules', '.bin', 'bun');
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
mkdirSync(join(root, 'dist', 'bin'), { recursive: true });

const readJson = (...path) => JSON.parse(readFileSync(join(...path), 'utf8'));
const walk = (dir) =>
  readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.ts') && !f.endsWith('.d.ts') ? [join(dir, f)] : [],
  );

/** koncli's plugin: src/commands/**.ts by oclif id (lease/status.ts -> lease:status), described by .oclif.manifest.json (npm run manifest). */
function koncliPlugin() {
  const commandsDir = join(root, 'src', 'commands');
  const files = Object.fromEntries(walk(commandsDir).map((f) => [relative(commandsDir, f).replace(/\.ts$/, '').split('/').join(':'), f]));
  const manifest = readJson(root, '.oclif.manifest.json');
  const ids = Object.keys(manifest.commands).sort();
  if (ids.join() !== Object.keys(files).sort().join()) {
    throw new Error(
      `.oclif.manifest.json lists ${ids.join(', ')} but src/commands has ${Object.keys(files).sort().join(', ')}: npm run build && npm run manifest`,
    );
  }
  const loaders = ids.map((id) => `${JSON.stringify(id)}: () => import(${JSON.stringify(files[id])}).then((m) => m.default)`);
  return { isRoot: true, pjson: readJson(root, 'package.json'), manifest, loaders };
}

/** @oclif/plugin-help as oclif would read it from node_modules: its package.json and manifest; its commands from its package entry. */
function helpPlugin() {
  const dir = join(root, 'node_modules', '@oclif', 'plugin-help');
  const { name, version, oclif } = readJson(dir, 'package.json');
  const manifest = readJson(dir, 'oclif.manifest.json');
  const loaders = Object.keys(manifest.commands).map(
    (id) => `${JSON.stringify(id)}: () => import('@oclif/plugin-help').then((m) => m.commands[${JSON.stringify(id)}])`,
  );
  return { isRoot: false, pjson: { name, version, oclif }, manifest, loaders };
}

const generated = {
  'koncli:plugins': () =>
    [
      'export const plugins = [',
      ...[koncliPlugin(), helpPlugin()].map(({ loaders, ...data }) => `  { ...${JSON.stringify(data)}, commands: {\n    ${loaders.join(',\n    ')},\n  } },`),
      '];',
    ].join('\n'),
  // lease run's watchdog (the executable re-running itself with `__watchdog`, src/exe/main.ts).
  'koncli:watchdog': () => {
    const watchdog = join(root, 'src', 'supervise', 'watchdog.ts');
    if (existsSync(watchdog)) return `export { main } from ${JSON.stringify(watchdog)};`;
    const line = "koncli: error: this executable was built without lease run's watchdog (src/supervise/watchdog.ts)\n";
    return `export function main() { process.stderr.write(${JSON.stringify(line)}); process.exit(1); }`;
  },
};
const generatedModules = {
  name: 'koncli-generated',
  setup(b) {
    b.onResolve({ filter: /^koncli:/ }, (args) => (generated[args.path] ? { path: args.path, namespace: 'koncli-generated' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'koncli-generated' }, (args) => ({ resolveDir: root, loader: 'js', contents: generated[args.path]() }));
  },
};

const script = join(out, 'koncli.cjs');
const bundled = await build({
  entryPoints: [join(root, 'src', 'exe', 'main.ts')],
  metafile: true,
  outfile: script,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'esnext',
  loader: { '.yaml': 'text' },
  external: ['typescript'], // oclif requires it only for development plugins (never here)
  plugins: [generatedModules],
  logLevel: 'warning',
  legalComments: 'none',
});
writeFileSync(join(out, 'meta.json'), JSON.stringify(bundled.metafile)); // what the script holds: npx esbuild-visualizer, or bench/

// --keep-names: class and function names stay readable in stack traces. No .env or bunfig.toml is
// read at a start (Bun reads both from the working directory by default): koncli's environment is
// the caller's.
rmSync(exe, { force: true });
execFileSync(
  bun,
  [
    'build',
    '--compile',
    '--bytecode',
    '--minify',
    '--keep-names',
    '--format=cjs',
    '--no-compile-autoload-dotenv',
    '--no-compile-autoload-bunfig',
    '--external=typescript', // as for esbuild above: Bun would otherwise bundle it (9 MB) from node_modules
    script,
    '--outfile',
    exe,
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
);
const mb = (f) => (statSync(f).size / 1e6).toFixed(1);
const bunVersion = execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim();
process.stderr.write(`packaged ${relative(root, exe)} (${mb(exe)} MB; Bun ${bunVersion}, script ${mb(script)} MB) in ${Date.now() - started} ms\n`);
