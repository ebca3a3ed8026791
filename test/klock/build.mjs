#!/usr/bin/env node
// Builds klock (github.com/berquerant/k8s-lease/cmd/klock), the peer tool koncli must interoperate
// with, at a pinned tag, into the same cache as the control plane:
//   ${KONCLI_CLUSTER_CACHE:-~/.cache/koncli-cluster}/<hash of test/klock/go.mod+go.sum>/bin/klock
//
// The Go module next to this file requires k8s-lease at KLOCK_TAG (with its own dependency
// versions, go.sum pinned) and replaces it with the tag's source tree from the Go module proxy.
// Where the proxy does not serve the module (as on the machines this project is developed on:
// it answers 403 for k8s-lease), klock cannot be built and the tests that need it are skipped.
//
//   node test/klock/build.mjs      build if needed; print the binary's path on stdout
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, findGo, moduleHash, removeDeadStages, runGo } from '../cluster/build.mjs';
import { PlaneError, tail } from '../cluster/proc.mjs';

export const KLOCK_DIR = dirname(fileURLToPath(import.meta.url));
export const KLOCK_MODULE = 'github.com/berquerant/k8s-lease';
export const KLOCK_TAG = 'v0.1.0';
export const KLOCK_COMMIT = '473074018ca2f4e5162330c4dcaec6f21890115a';

/** Where ensureKlock() puts the binary. */
export const klockPath = () => join(cacheRoot(), moduleHash(KLOCK_DIR), 'bin', 'klock');


/** Links the module proxy's copy of the pinned tag at `dest`; false when the proxy will not serve it. */
function fromProxy(go, dest) {
  const r = spawnSync(go, ['mod', 'download', '-json', `${KLOCK_MODULE}@${KLOCK_TAG}`], {
    encoding: 'utf8',
    cwd: tmpdir(), // outside any module, so no go.mod's `replace` applies
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '', GO111MODULE: 'on' },
  });
  try {
    const info = JSON.parse(r.stdout);
    if (r.status !== 0 || !info.Dir || info.Error) return false;
    symlinkSync(info.Dir, dest);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ensure klock is built; build it if not. Returns { path, built, seconds, source }.
 * Throws a PlaneError saying what is missing when no source of the pinned tag can be had.
 */
export async function ensureKlock({ log = (m) => process.stderr.write(`${m}\n`), force = false } = {}) {
  const path = klockPath();
  if (!force && existsSync(path)) return { path, built: false, seconds: 0, source: 'cache' };

  const { go, version } = findGo();
  const dir = dirname(path);
  const hashDir = dirname(dir);
  mkdirSync(hashDir, { recursive: true });
  removeDeadStages(hashDir);
  const stage = join(hashDir, `bin.tmp-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  const work = join(stage, 'work');
  mkdirSync(work, { recursive: true });
  for (const f of ['go.mod', 'go.sum']) copyFileSync(join(KLOCK_DIR, f), join(work, f));

  const src = join(work, 'k8s-lease'); // the go.mod's `replace` target
  const source = fromProxy(go, src) ? 'module proxy' : null;
  if (!source) {
    rmSync(stage, { recursive: true, force: true });
    throw new PlaneError(
      `klock ${KLOCK_TAG} source not available: the Go module proxy does not serve ${KLOCK_MODULE}@${KLOCK_TAG}`,
    );
  }

  const logPath = join(hashDir, 'build.log');
  log(`building klock ${KLOCK_TAG} (from ${source}) with ${version}; log: ${logPath}`);
  const started = Date.now();
  const ldflags = `-X ${KLOCK_MODULE}/version.Version=${KLOCK_TAG} -X ${KLOCK_MODULE}/version.Revision=${KLOCK_COMMIT.slice(0, 7)}`;
  const code = await runGo(go, ['build', '-mod=readonly', '-trimpath', '-ldflags', ldflags, '-o', join(stage, 'klock'), `${KLOCK_MODULE}/cmd/klock`], {
    cwd: work,
    logPath,
  });
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0 || !existsSync(join(stage, 'klock'))) {
    rmSync(stage, { recursive: true, force: true });
    throw new PlaneError(`building klock failed (exit ${code}); last lines of ${logPath}:\n${tail(logPath, 25)}`);
  }
  rmSync(work, { recursive: true, force: true });
  if (!force && existsSync(path)) {
    rmSync(stage, { recursive: true, force: true }); // a concurrent build finished first
  } else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(stage, dir);
  }
  log(`built klock in ${seconds.toFixed(1)} s -> ${path}`);
  return { path, built: true, seconds, source };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { path } = await ensureKlock();
    process.stdout.write(`${path}\n`);
  } catch (e) {
    process.stderr.write(`klock: ${e?.message ?? e}\n`);
    process.exitCode = 1;
  }
}
