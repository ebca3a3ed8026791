// The start-up work step by step: the same two commands on builds that add one step at a time,
// measured interleaved like the start-up suite. Each build goes to a scratch package directory.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timed } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { KONCLI_BIN, REPO } from '../lib/tools.mjs';

const STEP_RUN = new URL('../lib/step-run.mjs', import.meta.url).pathname;
const LATER = ['--no-skip-engine-check'];
const BUILDS = [
  { id: 'before', label: 'before: client-node whole, @oclif/core from node_modules', flags: ['--no-slim-client-node', '--no-bundle-oclif', '--no-builtins-via-require', '--no-minify', ...LATER] },
  { id: 'slim', label: '+ client-node trimmed to the methods src/ calls', flags: ['--no-bundle-oclif', '--no-builtins-via-require', '--no-minify', ...LATER] },
  { id: 'oclif', label: '+ @oclif/core bundled (dist/oclif.js)', flags: ['--no-builtins-via-require', '--no-minify', ...LATER] },
  { id: 'builtins', label: '+ built-in modules through require()', flags: ['--no-minify', ...LATER] },
  { id: 'minify', label: '+ minified whitespace and syntax', flags: LATER },
  { id: 'engine', label: "+ @oclif/core's dead engine check (and semver) dropped", flags: [] },
];

function packageDir(root, id) {
  const dir = join(root, id);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const f of ['package.json', '.oclif.manifest.json']) copyFileSync(join(REPO, f), join(dir, f));
  copyFileSync(KONCLI_BIN, join(dir, 'bin', 'run.js'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export async function startupSteps({ tools, rounds, log }) {
  const root = mkdtempSync(join(tmpdir(), 'koncli-bench-steps-'));
  try {
    const variants = [];
    for (const b of BUILDS) {
      const dir = packageDir(root, b.id);
      const r = await timed([process.execPath, join(REPO, 'scripts', 'build.mjs'), '--outdir', join(dir, 'dist'), ...b.flags], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`build ${b.id}: ${r.stderr}`);
      variants.push({ id: b.id, label: b.label, run: (...args) => [process.execPath, STEP_RUN, dir, ...args] });
    }
    variants.push({ id: 'run.js', label: '+ bin/run.js: `--version` without oclif, compile cache per user, core plugins only for help and unknown commands', run: (...args) => tools.koncliBare(...args) });
    variants.push({ id: 'no-cache', label: 'shipped, with NODE_DISABLE_COMPILE_CACHE=1', run: (...args) => tools.koncliBare(...args), env: { NODE_DISABLE_COMPILE_CACHE: '1' } });
    const commands = [
      { id: 'version', args: ['--version'] },
      { id: 'status', args: ['lease', 'status', 'bench-startup', '--json', '-n', tools.namespace] },
    ];
    const cells = variants.flatMap((v) => commands.map((c) => ({ v, c, argv: v.run(...c.args), env: { ...tools.env, ...v.env }, wall: [], cpu: [] })));
    for (const cell of cells) await timed(cell.argv, { env: cell.env }); // warm-up (fills each compile cache)
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < cells.length; k++) {
        const cell = cells[(i + k) % cells.length];
        const r = await timed(cell.argv, { env: cell.env });
        if (r.code !== 0) throw new Error(`${cell.argv.join(' ')}: exit ${r.code} ${r.stderr.slice(0, 300)}`);
        cell.wall.push(r.wallMs);
        if (r.cpuMs !== null) cell.cpu.push(r.cpuMs);
      }
    }
    log(`steps: ${variants.length} variants x ${rounds} rounds`);
    return variants.map((v) => ({
      id: v.id,
      label: v.label,
      ...Object.fromEntries(cells.filter((c) => c.v === v).map((c) => [c.c.id, { wallMs: summarize(c.wall), cpuMs: summarize(c.cpu) }])),
    }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
