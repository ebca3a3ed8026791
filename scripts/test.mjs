// The README's test command: build, typecheck, manifest check, lint (ESLint) and format check
// (Prettier), unit and integration tests on the npm build, then the single executable (npm run
// package) and the integration tests again against it (KONCLI_TEST_EXECUTABLE, test/support/cli.ts).
// Integration tests start the local control plane once, or reuse a running one. A lint or format
// failure is reported and fails the run, but the tests still run, so one run shows everything.
//   node scripts/test.mjs [PROJECT…]   only these jest projects, on the npm build only
// Ends with one plain summary line: "jest: N passed, N failed, N skipped".
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const chosen = process.argv.slice(2);
const projects = chosen.length ? chosen : ['unit', 'integration'];
const step = (title, args) => {
  console.error(`\n== ${title}`);
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
};

console.error(`node ${process.version} (${process.execPath})`);
step('build', ['scripts/build.mjs']);
step('typecheck', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json']);
step('manifest check', ['scripts/manifest.mjs', '--check']);
const style = [
  ['lint (eslint src test)', ['node_modules/eslint/bin/eslint.js', 'src', 'test']],
  ['format check (prettier --check)', ['node_modules/prettier/bin/prettier.cjs', '--check', '{src,test,scripts,bench}/**/*.{ts,mjs,js}', '*.mjs']],
].filter(([title, args]) => {
  console.error(`\n== ${title}`);
  return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status !== 0;
});

const total = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTotalTests: 0 };
let failed = false;
function jest(title, selected, env = {}) {
  const results = `${root}.jest-results.json`;
  rmSync(results, { force: true });
  console.error(`\n== jest (${selected.join(', ')}) ${title}`);
  const r = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--selectProjects', ...selected, '--json', `--outputFile=${results}`],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } },
  );
  let summary = { numTotalTests: 0 };
  try {
    summary = JSON.parse(readFileSync(results, 'utf8'));
  } catch {}
  rmSync(results, { force: true });
  for (const k of Object.keys(total)) total[k] += summary[k] ?? 0;
  if (r.status !== 0 || summary.numTotalTests === 0) failed = true;
}

jest('on the npm build', projects);
if (!chosen.length) {
  step('package (the single executable)', ['scripts/package.mjs']);
  jest('on the single executable, dist/bin/koncli', ['integration'], { KONCLI_TEST_EXECUTABLE: 'dist/bin/koncli' });
}
for (const [title] of style) console.error(`failed: ${title}`);
console.log(`jest: ${total.numPassedTests} passed, ${total.numFailedTests} failed, ${total.numPendingTests} skipped`);
if (failed || style.length > 0) process.exit(1);
