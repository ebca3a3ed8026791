// Running the tools under test: timed one-shot runs (wall and CPU time), and long-lived children.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIME = '/usr/bin/time'; // GNU time: CPU seconds of the child (user + system)
const hasTime = existsSync(TIME);
const scratch = mkdtempSync(join(tmpdir(), 'koncli-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let seq = 0;

/**
 * Runs argv to completion. Resolves { code, wallMs, cpuMs, stdout, stderr }; cpuMs is null
 * without GNU time. Wall time is measured here, around the whole child (fork to exit).
 */
export function timed(argv, { env, timeoutMs = 60_000 } = {}) {
  const timeFile = join(scratch, `t${seq++}`);
  const full = hasTime ? [TIME, '-f', '%U %S', '-o', timeFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(full[0], full.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let cpuMs = null;
      if (hasTime) {
        try {
          const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
          cpuMs = (user + sys) * 1000;
          rmSync(timeFile, { force: true });
        } catch {}
      }
      resolve({ code, wallMs, cpuMs, stdout, stderr });
    });
  });
}

/** Starts a long-lived child; `exited` resolves with its exit code. */
export function start(argv, { env, stdin = 'ignore' } = {}) {
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return { child, exited, stderr: () => stderr };
}

/** Peak resident set (VmHWM) and current RSS of a live process, in MB; null once it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const hwmMb = kb('VmHWM') / 1024;
    return Number.isFinite(hwmMb) ? { hwmMb, rssMb: kb('VmRSS') / 1024 } : null; // a zombie has no memory lines
  } catch {
    return null;
  }
}

/** CPU time (user + system) a live process has used so far, in seconds; 0 once it is gone. Linux: /proc/PID/stat, in clock ticks of 1/100 s. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15 of proc(5))
  } catch {
    return 0;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a truthy value, or throws after `timeoutMs`. */
export async function until(check, { timeoutMs = 30_000, everyMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
