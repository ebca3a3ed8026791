import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

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

  /** Sends `signal`, then SIGKILL if the command is still running after `killAfterMs`. */
  async stop(signal: NodeJS.Signals, killAfterMs: number): Promise<ChildExit> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
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
