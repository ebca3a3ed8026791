import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** One process as /proc/PID/stat (proc(5)) shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  start: number;
  /** Exited, not yet reaped: does no work and cannot be signalled away. */
  zombie: boolean;
}

/** Parses a /proc/PID/stat line ("pid (comm) state ppid pgrp session tty tpgid … starttime …"). */
export function parseStat(stat: string): ProcessInfo {
  // comm may itself contain spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(stat.slice(0, stat.indexOf(' '))),
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    start: Number(fields[19]),
    zombie: fields[0] === 'Z' || fields[0] === 'X',
  };
}

/** `pid`'s entry, or undefined when it no longer exists (or there is no /proc). */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `p` (as recorded) is still that live process: its pid not reused (same start time), not a zombie. */
export function isSameLiveProcess(p: ProcessInfo): boolean {
  const now = processInfo(p.pid);
  return now !== undefined && !now.zombie && (p.start === 0 || now.start === p.start);
}

/** Whether this system has a /proc to read processes from (Linux). */
export function hasProc(): boolean {
  return processInfo(process.pid) !== undefined;
}

/**
 * Every visible process: /proc on Linux; elsewhere `ps` (pid, ppid, pgid only: start times are
 * unknown there, reported as 0).
 */
export function listProcesses(): Map<number, ProcessInfo> {
  const all = new Map<number, ProcessInfo>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    // no /proc
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid (letters sort after digits)
    const info = processInfo(Number(entry));
    if (info && !Number.isNaN(info.pid)) all.set(info.pid, info);
  }
  if (all.size > 0) return all;
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8' });
  for (const line of (ps.stdout ?? '').split('\n')) {
    const [pid, ppid, pgrp, state] = line.trim().split(/\s+/);
    if (Number(pid) > 0) all.set(Number(pid), { pid: Number(pid), ppid: Number(ppid), pgrp: Number(pgrp), start: 0, zombie: (state ?? '').startsWith('Z') });
  }
  return all;
}

/**
 * Whether `pid`'s initial environment (/proc/PID/environ, as given to execve) holds `entry`
 * ("NAME=value"). False also when it may not be read (EACCES: another user's or a non-dumpable
 * process — it will not become readable). Undefined when it cannot be told now: gone, no /proc, or
 * empty — which is also what a process in the middle of execve shows (its new memory has no
 * environment yet, or the old one is gone), so "empty" is not "not ours".
 */
export function environHas(pid: number, entry: string): boolean | undefined {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? false : undefined;
  }
  if (environ === '') return undefined;
  return environ.startsWith(`${entry}\0`) || environ.includes(`\0${entry}\0`);
}

/**
 * Sends `signal` to each pid; returns those it reached. `EPERM` (a process that changed user,
 * e.g. through sudo or a setuid program) is not reached.
 */
export function signalEach(pids: number[], signal: NodeJS.Signals | 0): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  });
}

/** This process's group and whether that group is the foreground group of a controlling terminal. */
export function ownTerminalGroup(): { pgrp: number; foreground: boolean } | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [pgrp, tty, tpgid] = [Number(fields[2]), Number(fields[4]), Number(fields[5])];
    return { pgrp, foreground: tty !== 0 && tpgid === pgrp };
  } catch {
    return undefined;
  }
}

/** The range of /proc/PID/oom_score_adj (proc(5)): −1000 never killed by the OOM killer, 1000 killed first. */
export const OOM_SCORE_ADJ_MAX = 1000;

/** `pid`'s oom_score_adj, or undefined where it cannot be read (no /proc, gone). */
export function readOomScoreAdj(pid: number | 'self'): number | undefined {
  try {
    const value = Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets `pid`'s oom_score_adj; false when refused or impossible. Anyone may raise their own; lowering
 * it below the lowest value a privileged writer set (oom_score_adj_min, usually the inherited one)
 * needs CAP_SYS_RESOURCE (proc(5), the kernel's __set_oom_adj).
 */
export function writeOomScoreAdj(pid: number | 'self', value: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, `${value}\n`);
    return true;
  } catch {
    return false;
  }
}
