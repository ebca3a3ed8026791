// The README's test command: build, typecheck, manifest check, lint (ESLint) and format check
// (Prettier), then unit and integration tests (integration tests start the local control plane once,
// or reuse a running one). A lint or format failure is reported and fails the run, but the tests
// still run, so one run shows everything. Ends with one plain summary line: "jest: N passed, N failed, N skipped".
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const projects = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration'];
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

const results = `${root}.jest-results.json`;
rmSync(results, { force: true });
console.error(`\n== jest (${projects.join(', ')})`);
const jest = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--selectProjects', ...projects, '--json', `--outputFile=${results}`],
  { cwd: root, stdio: 'inherit' },
);
let summary = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTotalTests: 0 };
try {
  summary = JSON.parse(readFileSync(results, 'utf8'));
} catch {}
rmSync(results, { force: true });
for (const [title] of style) console.error(`failed: ${title}`);
console.log(`jest: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${summary.numPendingTests} skipped`);
if (jest.status !== 0 || summary.numTotalTests === 0) process.exit(jest.status || 1);
if (style.length > 0) process.exit(1);
