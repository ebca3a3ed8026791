import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { descendantsOf, signalEach } from './process-tree.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs a command directly (no shell, arguments exactly as given) with stdio passed through, and
 * forwards SIGINT, SIGTERM and SIGHUP to it while it runs.
 */
export class SupervisedChild {
  private readonly child: ChildProcess;
  readonly exited: Promise<ChildExit>;
  private readonly forward = (signal: NodeJS.Signals) => this.child.kill(signal);

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { stdio: 'inherit', env });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    for (const s of FORWARDED) process.on(s, this.forward);
    void this.exited.finally(() => {
      for (const s of FORWARDED) process.off(s, this.forward);
    }).catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Sends `signal` to the command and to every process it started (a shell's children would
   * otherwise outlive it and go on working), then SIGKILL to whichever of them still runs after
   * `killAfterMs`. Resolves with the command's exit once it and those processes are gone (or killed).
   */
  async stop(signal: NodeJS.Signals, killAfterMs: number): Promise<ChildExit> {
    const pid = this.child.pid;
    const tree = pid === undefined ? [] : descendantsOf(pid);
    this.child.kill(signal);
    signalEach(tree, signal);
    const killAt = performance.now() + killAfterMs; // monotonic: a wall-clock step neither shortens nor stretches the grace
    const timer = setTimeout(() => {
      this.child.kill('SIGKILL');
      signalEach([...new Set([...tree, ...(pid === undefined ? [] : descendantsOf(pid))])], 'SIGKILL');
    }, killAfterMs);
    try {
      const exit = await this.exited;
      while (performance.now() < killAt && tree.some(isRunning)) await new Promise((r) => setTimeout(r, 20));
      if (tree.some(isRunning)) signalEach(tree.filter(isRunning), 'SIGKILL');
      return exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Whether `pid` exists and is not a zombie (an orphan whose reaper has not collected it yet). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return !existsSync('/proc/self') && signalEach([pid], 0).length > 0; // no /proc: ask the kernel
  }
}

/** The shell convention: the exit code, or 128 + N for death by signal N. */
export function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const number = exit.signal ? (constants.signals as Record<string, number>)[exit.signal] : undefined;
  return 128 + (number ?? 0);
}

export function parseSignal(name: string): NodeJS.Signals {
  const upper = name.toUpperCase();
  const full = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!(full in constants.signals)) throw new Error(`unknown signal ${name}`);
  return full;
}
