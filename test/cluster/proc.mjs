// Process helpers for the local control plane: detached spawn, process-group kill,
// liveness checks and a pgrep-based sweep for strays. Node built-ins only.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

/** Error whose message is meant to be printed as the single failure line. */
export class PlaneError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PlaneError';
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start `argv[0]` with its arguments in its own process group (detached), stdout and
 * stderr appended to `logPath`. Returns the pid, which is also the process group id.
 */
export function spawnDetached(argv, logPath, env = process.env) {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env,
    });
    if (child.pid === undefined) throw new PlaneError(`could not start ${argv[0]}`);
    child.on('error', () => {}); // reported through liveness checks instead
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` exists and (if given) its command line contains `marker`. */
export function isAlive(pid, marker) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  if (!marker) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.length === 0) return false; // zombie
    return cmdline.includes(marker);
  } catch {
    // No /proc (macOS): fall back to ps.
    const r = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 && r.stdout.includes(marker);
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Stop the process group led by `pid`: SIGTERM, then SIGKILL after `graceMs`.
 * `graceMs` 0 sends SIGKILL at once (a crash). Resolves once the process is gone.
 * `marker` guards against a reused pid.
 */
export async function killGroup(pid, marker, graceMs = 5000) {
  if (!isAlive(pid, marker)) return;
  if (graceMs > 0) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid, marker)) return;
      await sleep(100);
    }
  }
  signalGroup(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 5000;
  while (Date.now() < hardDeadline) {
    if (!isAlive(pid, marker)) return;
    await sleep(100);
  }
  throw new PlaneError(`process ${pid} did not exit after SIGKILL`);
}

/** Pids whose full command line matches the regular expression `pattern` (pgrep -f). */
export function pgrep(pattern) {
  const r = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  if (r.error) throw new PlaneError('pgrep not found: install procps');
  return r.stdout
    .split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n !== process.pid);
}

export const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Last `n` lines of a text file, or '' when it cannot be read. */
export function tail(path, n = 20) {
  try {
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}
