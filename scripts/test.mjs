// The README's test command: build, then the unit and integration tests on the npm build, then the
// single executable (npm run package) and the integration tests again against it
// (KONCLI_TEST_EXECUTABLE, test/support/cli.ts). Typecheck, manifest check, lint (ESLint) and format
// check (Prettier) run beside the first jest run (they need CPU, the integration tests mostly wait);
// their output follows it. Integration tests start the local control plane once, or reuse a running
// one. A failed check is reported and fails the run, but the tests still run, so one run shows everything.
//   node scripts/test.mjs [--no-checks] [PROJECT…]   only these jest projects, on the npm build only;
//                                                    --no-checks: build and tests only (npm run test:reliability)
// Jest runs KONCLI_TEST_WORKERS test files at once (default 3; jest's own default on 2 cores is 1),
// except the files in ALONE, which run one at a time after the others, and the IN_BAND projects.
// Ends with one plain summary line: "jest: N passed, N failed, N skipped".
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const checks = !args.includes('--no-checks');
const chosen = args.filter((a) => a !== '--no-checks');
const projects = chosen.length ? chosen : ['unit', 'integration'];
const workers = process.env.KONCLI_TEST_WORKERS || '3';
/**
 * Integration files that stop, restart or throttle the shared control plane: beside other files,
 * those would see the API server vanish or answer 429. The reliability project (API-server and etcd
 * outages, API Priority and Fairness, 50-process contention, hundreds of failing commands with their
 * retries) runs one file at a time, as it always did: three at once timed out 16 of its tests at load 33.
 */
const ALONE = ['test/integration/apiserver-restart.test.ts']; // restarts kube-apiserver
const IN_BAND = ['reliability'];
const step = (title, args) => {
  console.error(`\n== ${title}`);
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
};

/**
 * Runs a check in the background, its output into a file (the jest runs block this process's event
 * loop, so a pipe would fill and stall the check); resolves to { title, status, output }.
 */
function background(title, args) {
  const file = join(mkdtempSync(join(tmpdir(), 'koncli-check-')), 'output');
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return new Promise((resolve) => child.on('close', (status) => resolve({ title, status, output: readFileSync(file, 'utf8') })));
}

console.error(`node ${process.version} (${process.execPath})`);
step('build', ['scripts/build.mjs']);
const started = checks
  ? [
      background('typecheck', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json']),
      background('manifest check', ['scripts/manifest.mjs', '--check']),
      background('lint (eslint src test)', ['node_modules/eslint/bin/eslint.js', 'src', 'test']),
      background('format check (prettier --check)', [
        'node_modules/prettier/bin/prettier.cjs',
        '--check',
        '{src,test,scripts,bench}/**/*.{ts,mjs,js}',
        '*.mjs',
      ]),
    ]
  : [];
if (checks) console.error('\n== typecheck, manifest check, lint and format check: beside the first jest run, reported after it');

const total = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTotalTests: 0 };
let failed = false;
function runJest(title, jestArgs, env) {
  const results = `${root}.jest-results.json`;
  rmSync(results, { force: true });
  console.error(`\n== jest ${title}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', ...jestArgs, '--json', `--outputFile=${results}`], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  let summary = { numTotalTests: 0 };
  try {
    summary = JSON.parse(readFileSync(results, 'utf8'));
  } catch {}
  rmSync(results, { force: true });
  for (const k of Object.keys(total)) total[k] += summary[k] ?? 0;
  if (r.status !== 0 || summary.numTotalTests === 0) failed = true;
  console.error(`== jest ${title}: ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** The chosen projects side by side (ALONE left out), then the ALONE files of those projects one at a time. */
function jest(title, selected, env = {}) {
  if (selected.some((p) => IN_BAND.includes(p)))
    return runJest(`(${selected.join(', ')}) ${title}, one file at a time`, ['--selectProjects', ...selected, '--runInBand'], env);
  const ignore = ['/node_modules/', ...ALONE.map((f) => f.replaceAll('.', '\\.'))];
  runJest(
    `(${selected.join(', ')}) ${title}, ${workers} at once`,
    ['--selectProjects', ...selected, `--maxWorkers=${workers}`, '--testPathIgnorePatterns', ...ignore],
    env,
  );
  const alone = ALONE.filter((f) => selected.includes(f.split('/')[1]));
  if (alone.length) runJest(`(${selected.join(', ')}) ${title}, alone: ${alone.join(' ')}`, [...alone, '--selectProjects', ...selected, '--runInBand'], env);
}

jest('on the npm build', projects);
const failedChecks = [];
for (const { title, status, output } of await Promise.all(started)) {
  console.error(`\n== ${title}${status === 0 ? '' : ` (exit ${status})`}`);
  if (output) process.stderr.write(output);
  if (status !== 0) failedChecks.push(title);
}
if (!chosen.length) {
  step('package (the single executable)', ['scripts/package.mjs']);
  jest('on the single executable, dist/bin/koncli', ['integration'], { KONCLI_TEST_EXECUTABLE: 'dist/bin/koncli' });
}
for (const title of failedChecks) console.error(`failed: ${title}`);
console.log(`jest: ${total.numPassedTests} passed, ${total.numFailedTests} failed, ${total.numPendingTests} skipped`);
if (failed || failedChecks.length > 0) process.exit(1);
