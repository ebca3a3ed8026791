// Builds kube-apiserver, etcd and kubectl from the pinned Go module in this directory
// into a cache dir keyed by the module's content, so they are rebuilt only when it changes.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, openSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlaneError, isAlive, tail } from './proc.mjs';

export const MODULE_DIR = dirname(fileURLToPath(import.meta.url));
export const K8S_VERSION = 'v1.36.3';
export const BINARIES = ['kube-apiserver', 'etcd', 'kubectl'];
const PACKAGES = ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kubectl', 'go.etcd.io/etcd/server/v3'];
const MIN_GO = [1, 26];

const LDFLAGS = [
  '-s',
  '-w',
  `-X k8s.io/component-base/version.gitVersion=${K8S_VERSION}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  '-X k8s.io/component-base/version.gitMinor=36',
  '-X k8s.io/component-base/version.gitTreeState=clean',
  '-X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z',
  `-X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}`,
  '-X k8s.io/client-go/pkg/version.gitMajor=1',
  '-X k8s.io/client-go/pkg/version.gitMinor=36',
].join(' ');

/** First 16 hex digits of sha256(go.mod + go.sum) of the Go module in `dir` (default: this one). */
export function moduleHash(dir = MODULE_DIR) {
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, 'go.mod')));
  h.update(readFileSync(join(dir, 'go.sum')));
  return h.digest('hex').slice(0, 16);
}

export function cacheRoot() {
  return process.env.KONCLI_CLUSTER_CACHE || join(homedir(), '.cache', 'koncli-cluster');
}

export function binDir() {
  return join(cacheRoot(), moduleHash(), 'bin');
}

export function binaryPaths(dir = binDir()) {
  return Object.fromEntries(BINARIES.map((b) => [b, join(dir, b)]));
}

export function binariesPresent(dir = binDir()) {
  return BINARIES.every((b) => existsSync(join(dir, b)));
}

/** Locate a Go toolchain >= 1.26: $KONCLI_GO, `go` on PATH, then /usr/local/go/bin/go. */
export function findGo() {
  const candidates = [process.env.KONCLI_GO, 'go', '/usr/local/go/bin/go'].filter(Boolean);
  for (const go of candidates) {
    const r = spawnSync(go, ['env', 'GOVERSION'], {
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local' },
    });
    if (r.error || r.status !== 0) continue;
    const m = /^go(\d+)\.(\d+)/.exec(r.stdout.trim());
    if (!m) continue;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major > MIN_GO[0] || (major === MIN_GO[0] && minor >= MIN_GO[1])) {
      return { go, version: r.stdout.trim() };
    }
  }
  throw new PlaneError(
    'Go >= 1.26 not found (tried $KONCLI_GO, go on PATH, /usr/local/go/bin/go): install Go >= 1.26 from https://go.dev/dl/ to build the test control plane',
  );
}

/** Remove `bin.tmp-<pid>` dirs left by builds that were killed. */
export function removeDeadStages(hashDir) {
  for (const entry of readdirSync(hashDir)) {
    const m = /^bin\.tmp-(\d+)$/.exec(entry);
    if (m && !isAlive(Number(m[1]))) rmSync(join(hashDir, entry), { recursive: true, force: true });
  }
}

/**
 * Run `go ARGS` in `cwd` the way every test binary is built here (GOTOOLCHAIN=local,
 * CGO_ENABLED=0, -buildvcs=false), output to `logPath`. Resolves to the exit code (-1: died).
 */
export async function runGo(go, args, { cwd, logPath }) {
  const fd = openSync(logPath, 'w');
  try {
    return await new Promise((resolve) => {
      const child = spawn(go, args, {
        cwd,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
      });
      child.on('error', () => resolve(-1));
      child.on('exit', (c, sig) => resolve(sig ? -1 : c));
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * Ensure the binaries exist; build them if not. Returns { dir, built, seconds }.
 * `log` receives progress lines (stderr by default).
 */
export async function ensureBinaries({ log = (m) => process.stderr.write(`${m}\n`), force = false } = {}) {
  const dir = binDir();
  if (!force && binariesPresent(dir)) return { dir, built: false, seconds: 0 };

  const { go, version } = findGo();
  const hashDir = dirname(dir);
  mkdirSync(hashDir, { recursive: true });
  removeDeadStages(hashDir);
  const stage = join(hashDir, `bin.tmp-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const logPath = join(hashDir, 'build.log');

  log(`building kube-apiserver, etcd, kubectl ${K8S_VERSION} with ${version} (first run takes a while; log: ${logPath})`);
  const started = Date.now();
  const code = await runGo(go, ['build', '-ldflags', LDFLAGS, '-o', `${stage}/`, ...PACKAGES], { cwd: MODULE_DIR, logPath });
  const seconds = (Date.now() - started) / 1000;

  if (code !== 0) {
    rmSync(stage, { recursive: true, force: true });
    const t = tail(logPath, 25);
    throw new PlaneError(`go build failed (exit ${code}); last lines of ${logPath}:\n${t}`);
  }
  // `go build` names etcd's main package `server` (the element before /v3); older Go: `v3`.
  for (const name of ['server', 'v3']) {
    if (existsSync(join(stage, name))) renameSync(join(stage, name), join(stage, 'etcd'));
  }
  for (const b of BINARIES) {
    if (!existsSync(join(stage, b))) throw new PlaneError(`go build did not produce ${b}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(stage, dir);
  log(`built control plane binaries in ${seconds.toFixed(1)} s -> ${dir}`);
  return { dir, built: true, seconds };
}
