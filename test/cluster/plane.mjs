// The local Kubernetes control plane used by koncli's tests and demo: one etcd and one
// kube-apiserver on 127.0.0.1, started detached, described by .cluster/state.json.
//
// Besides up/down/status, this module lets fault tests stop and start the running
// kube-apiserver or etcd with the exact argv recorded in state.json.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  accessSync,
  constants as fsConstants,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBinaries, binaryPaths, MODULE_DIR, K8S_VERSION } from './build.mjs';
import { generatePki } from './pki.mjs';
import { writeKubeconfig } from './kubeconfig.mjs';
import { applyRestrictedRbac, RESTRICTED_NAMESPACE } from './rbac.mjs';
import { pickPorts } from './ports.mjs';
import { PlaneError, spawnDetached, isAlive, killGroup, pgrep, escapeRegExp, sleep, tail } from './proc.mjs';

export { PlaneError } from './proc.mjs';

export const REPO_ROOT = resolve(MODULE_DIR, '..', '..');
const READY_TIMEOUT_MS = Number(process.env.KONCLI_READY_TIMEOUT_MS || 60_000);

/** Paths of everything the plane keeps under `.cluster/` (override: $KONCLI_CLUSTER_DIR). */
export function clusterPaths(dir = process.env.KONCLI_CLUSTER_DIR || join(REPO_ROOT, '.cluster')) {
  const root = resolve(dir);
  return {
    root,
    state: join(root, 'state.json'),
    lock: join(root, '.lock'),
    logs: join(root, 'logs'),
    pki: join(root, 'pki'),
    adminKubeconfig: join(root, 'admin.kubeconfig'),
    restrictedKubeconfig: join(root, 'restricted.kubeconfig'),
  };
}

/** Prefix of etcd data dirs belonging to this checkout, so `down` can sweep leftovers. */
function dataDirPrefix(paths) {
  const tag = createHash('sha256').update(paths.root).digest('hex').slice(0, 8);
  let base = '/dev/shm';
  try {
    accessSync(base, fsConstants.W_OK);
    if (!statSync(base).isDirectory()) base = tmpdir();
  } catch {
    base = tmpdir(); // no tmpfs at /dev/shm (e.g. macOS)
  }
  return join(base, `koncli-etcd-${tag}-`);
}

// ---------------------------------------------------------------- state

export function readState(paths = clusterPaths()) {
  try {
    return JSON.parse(readFileSync(paths.state, 'utf8'));
  } catch {
    return null;
  }
}

function writeState(state, paths = clusterPaths()) {
  const tmp = `${paths.state}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, paths.state);
}

/** Serialize up/down across processes with an O_EXCL lock file holding our pid. */
async function withLock(paths, fn) {
  mkdirSync(paths.root, { recursive: true });
  const deadline = Date.now() + 10 * 60_000; // a first-time build can hold it for long
  for (;;) {
    try {
      const fd = openSync(paths.lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(paths.lock, 'utf8'), 10);
      if (!isAlive(holder)) {
        rmSync(paths.lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new PlaneError(`timed out waiting for ${paths.lock} (held by pid ${holder})`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(paths.lock, { force: true });
  }
}

// ---------------------------------------------------------------- health probes

/** GET https://127.0.0.1:<port>/readyz as admin; true when it answers 200 "ok". */
export function readyz(state, timeoutMs = 2000) {
  return new Promise((done) => {
    let ca, cert, key;
    try {
      ca = readFileSync(state.pki.caCert);
      cert = readFileSync(state.pki.adminCert);
      key = readFileSync(state.pki.adminKey);
    } catch {
      return done(false);
    }
    const req = httpsRequest({ host: '127.0.0.1', port: state.ports.apiserver, path: '/readyz', ca, cert, key, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => done(res.statusCode === 200 && body.trim() === 'ok'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function etcdHealthy(port, timeoutMs = 2000) {
  return new Promise((done) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => done(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
  });
}

/** One line explaining why a component died, from its log, or null. */
function diagnose(logPath, name) {
  const t = tail(logPath, 200);
  const inUse = /listen tcp [^:]*:(\d+): bind: address already in use/.exec(t) || /bind: address already in use.*?:(\d+)/.exec(t);
  if (inUse) return `${name} could not bind: port 127.0.0.1:${inUse[1]} is taken`;
  if (/address already in use/.test(t)) return `${name} could not bind: a port is taken`;
  return null;
}

async function waitFor(component, state, probe, timeoutMs) {
  const c = state[component];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (!isAlive(c.pid, c.marker)) {
      const why = diagnose(c.log, component);
      throw new PlaneError(`${why ?? `${component} exited during startup`}; last lines of ${c.log}:\n${tail(c.log, 20)}`);
    }
    await sleep(250);
  }
  const what = component === 'apiserver' ? 'kube-apiserver /readyz not ok' : 'etcd /health not ok';
  throw new PlaneError(`${what} after ${Math.round(timeoutMs / 1000)} s; last lines of ${c.log}:\n${tail(c.log, 20)}`);
}

// ---------------------------------------------------------------- argv

function etcdArgv(bin, ports, dataDir) {
  const client = `http://127.0.0.1:${ports.etcd}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    bin,
    '--name=koncli',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=koncli=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgv(bin, ports, pki, certDir) {
  return [
    bin,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    '--authorization-mode=RBAC',
    `--client-ca-file=${pki.caCert}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--cert-dir=${certDir}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--disable-admission-plugins=ServiceAccount',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--endpoint-reconciler-type=none', // 127.0.0.1 is not a valid Endpoints IP; no Service needed
    '--profiling=false',
  ];
}

// ---------------------------------------------------------------- components

async function startComponent(component, paths, probe) {
  const state = readState(paths);
  if (!state) throw new PlaneError('no control plane state: run `npm run cluster:up` first');
  const c = state[component];
  if (isAlive(c.pid, c.marker)) throw new PlaneError(`${component} is already running (pid ${c.pid})`);
  c.pid = spawnDetached(c.argv, c.log);
  writeState(state, paths);
  await waitFor(component, state, () => probe(state), READY_TIMEOUT_MS);
  return state;
}

async function stopComponent(component, paths, { graceMs = 5000 } = {}) {
  const state = readState(paths);
  if (!state) throw new PlaneError('no control plane state: run `npm run cluster:up` first');
  const c = state[component];
  await killGroup(c.pid, c.marker, graceMs);
  c.pid = null;
  writeState(state, paths);
  return state;
}

/** Start kube-apiserver with its recorded argv and wait for /readyz. */
export const startApiserver = (paths = clusterPaths()) => startComponent('apiserver', paths, (s) => readyz(s));

/** Stop kube-apiserver (SIGTERM, SIGKILL after graceMs; graceMs 0 = crash it). */
export const stopApiserver = (paths = clusterPaths(), opts) => stopComponent('apiserver', paths, opts);

export async function restartApiserver(paths = clusterPaths(), opts) {
  await stopApiserver(paths, opts);
  return startApiserver(paths);
}

/** Start etcd with its recorded argv (same data dir) and wait for /health. */
export const startEtcd = (paths = clusterPaths()) => startComponent('etcd', paths, (s) => etcdHealthy(s.ports.etcd));

export const stopEtcd = (paths = clusterPaths(), opts) => stopComponent('etcd', paths, opts);

/** Restart etcd; then, if kube-apiserver is running, wait until it is ready again. */
export async function restartEtcd(paths = clusterPaths(), opts) {
  await stopEtcd(paths, opts);
  const state = await startEtcd(paths);
  if (isAlive(state.apiserver.pid, state.apiserver.marker)) {
    await waitFor('apiserver', state, () => readyz(state), READY_TIMEOUT_MS);
  }
  return state;
}

// ---------------------------------------------------------------- up / down / status

/** Running and ready? Returns { state, running, ready }. */
export async function status(paths = clusterPaths()) {
  const state = readState(paths);
  if (!state) return { state: null, running: false, ready: false };
  const running = isAlive(state.etcd.pid, state.etcd.marker) && isAlive(state.apiserver.pid, state.apiserver.marker);
  const ready = running && (await readyz(state));
  return { state, running, ready };
}

async function stopAll(state, paths) {
  for (const component of ['apiserver', 'etcd']) {
    const c = state?.[component];
    if (c?.pid) await killGroup(c.pid, c.marker);
  }
  // Sweep anything of ours the state file no longer names.
  const patterns = [escapeRegExp(dataDirPrefix(paths)), escapeRegExp(`${paths.pki}/`)];
  for (const pattern of patterns) {
    for (const pid of pgrep(pattern)) await killGroup(pid, null);
  }
  for (const pattern of patterns) {
    const left = pgrep(pattern);
    if (left.length) throw new PlaneError(`processes still running after stop: ${left.join(' ')}`);
  }
  if (state?.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
  const prefix = dataDirPrefix(paths);
  const base = resolve(prefix, '..');
  const name = prefix.slice(base.length + 1);
  for (const entry of readdirSync(base)) {
    if (entry.startsWith(name)) rmSync(join(base, entry), { recursive: true, force: true });
  }
}

function clearClusterDir(paths) {
  if (!existsSync(paths.root)) return;
  for (const entry of readdirSync(paths.root)) {
    if (join(paths.root, entry) !== paths.lock) rmSync(join(paths.root, entry), { recursive: true, force: true });
  }
}

function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return (r.stdout || '').trim().replace(/^Kubernetes\s+/, '') || K8S_VERSION;
}

/**
 * A plane that is busy, restarting, or has its apiserver stopped by a fault test is still
 * in use: wait for it, or start just the apiserver on the live etcd, rather than replace
 * it. Returns the state when the plane is ready again, or null to start from scratch.
 */
async function revive(state, paths, log) {
  if (!state || !isAlive(state.etcd.pid, state.etcd.marker)) return null;
  try {
    if (isAlive(state.apiserver.pid, state.apiserver.marker)) {
      log('control plane running but not ready yet; waiting');
      await waitFor('apiserver', state, () => readyz(state), READY_TIMEOUT_MS);
      return state;
    }
    log('etcd running without kube-apiserver; starting kube-apiserver');
    return await startApiserver(paths);
  } catch (err) {
    log(`could not reuse the running control plane (${err.message.split('\n')[0]}); starting afresh`);
    return null;
  }
}

/**
 * Start the plane, or reuse it when state.json names live, ready processes.
 * Returns { state, reused, buildSeconds, seconds }.
 */
export async function up({ log = (m) => process.stderr.write(`${m}\n`), paths = clusterPaths() } = {}) {
  return withLock(paths, async () => {
    const current = await status(paths);
    if (current.ready) return { state: current.state, reused: true, buildSeconds: 0, seconds: 0 };
    const reused = await revive(current.state, paths, log);
    if (reused) return { state: reused, reused: true, buildSeconds: 0, seconds: 0 };
    if (current.state) {
      log('found stale control plane state; cleaning it up');
      await stopAll(current.state, paths);
    }

    const build = await ensureBinaries({ log });
    const started = Date.now();
    const bins = binaryPaths(build.dir);
    const ports = await pickPorts(['apiserver', 'etcd', 'etcdPeer'], {
      apiserver: Number(process.env.KONCLI_APISERVER_PORT) || undefined,
      etcd: Number(process.env.KONCLI_ETCD_PORT) || undefined,
      etcdPeer: Number(process.env.KONCLI_ETCD_PEER_PORT) || undefined,
    });

    clearClusterDir(paths);
    mkdirSync(paths.logs, { recursive: true });
    const pki = generatePki(paths.pki);
    const dataDir = `${dataDirPrefix(paths)}${randomBytes(4).toString('hex')}`;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });

    const state = {
      version: versionOf(bins['kube-apiserver']),
      createdAt: new Date().toISOString(),
      server: `https://127.0.0.1:${ports.apiserver}`,
      ports,
      dataDir,
      binDir: build.dir,
      bin: bins,
      pki,
      kubeconfig: { admin: paths.adminKubeconfig, restricted: paths.restrictedKubeconfig },
      restrictedNamespace: RESTRICTED_NAMESPACE,
      etcd: { pid: null, marker: dataDir, log: join(paths.logs, 'etcd.log'), argv: etcdArgv(bins.etcd, ports, dataDir) },
      apiserver: {
        pid: null,
        marker: `${paths.pki}/`,
        log: join(paths.logs, 'kube-apiserver.log'),
        argv: apiserverArgv(bins['kube-apiserver'], ports, pki, paths.pki),
      },
    };
    writeState(state, paths);

    try {
      log(`starting etcd on 127.0.0.1:${ports.etcd} (data ${dataDir})`);
      await startEtcd(paths);
      log(`starting kube-apiserver ${state.version} on 127.0.0.1:${ports.apiserver}`);
      await startApiserver(paths);

      const common = { server: state.server, caCert: pki.caCert };
      writeKubeconfig(paths.adminKubeconfig, {
        ...common,
        clientCert: pki.adminCert,
        clientKey: pki.adminKey,
        contextName: 'koncli-admin',
      });
      writeKubeconfig(paths.restrictedKubeconfig, {
        ...common,
        clientCert: pki.restrictedCert,
        clientKey: pki.restrictedKey,
        contextName: 'koncli-restricted',
        namespace: RESTRICTED_NAMESPACE,
      });
      applyRestrictedRbac({ kubectl: bins.kubectl, kubeconfig: paths.adminKubeconfig, repoRoot: REPO_ROOT });
    } catch (err) {
      await stopAll(readState(paths) ?? state, paths).catch(() => {});
      rmSync(paths.state, { force: true });
      throw err;
    }
    return { state: readState(paths), reused: false, buildSeconds: build.seconds, seconds: (Date.now() - started) / 1000 };
  });
}

/** Stop everything this checkout started and remove .cluster/. Safe when nothing runs. */
export async function down({ paths = clusterPaths() } = {}) {
  if (!existsSync(paths.root)) {
    await stopAll(null, paths);
    return;
  }
  await withLock(paths, async () => {
    await stopAll(readState(paths), paths);
    clearClusterDir(paths);
  });
  rmSync(paths.root, { recursive: true, force: true });
}
