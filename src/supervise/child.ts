import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { sleepFor } from '../core/timer.js';
import { DescendantTracker } from './descendants.js';
import { OOM_SCORE_ADJ_MAX, ownTerminalGroup, readOomScoreAdj, writeOomScoreAdj } from './process-tree.js';
import type { ProcessInfo } from './process-tree.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Signals sent to koncli that are delivered to everything the command started (docs/lease-run.md). */
export const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The environment variable whose random value marks the command's processes (descendants.ts). */
export const RUN_ID_VARIABLE = 'KONCLI_RUN_ID';

/** A fresh marker for one run: the `KONCLI_RUN_ID=<random>` entry its command's processes carry. */
export function newRunMarker(): string {
  return `${RUN_ID_VARIABLE}=${randomBytes(12).toString('hex')}`;
}

/**
 * How much likelier than koncli the kernel's OOM killer finds the command: its oom_score_adj is
 * koncli's plus this (at most 1000). koncli is the larger process beside a small command, so the
 * kernel would otherwise pick it — and leave the command running with nobody renewing the lease.
 */
export const COMMAND_OOM_SCORE_ADJ_RAISE = 500;

/**
 * Runs `spawnIt` with this process's oom_score_adj raised for the moment of the fork, so the
 * command and everything it starts inherit the higher value from their first instruction; then
 * puts koncli's back. Never fails the run: a refused write only leaves the values as they were.
 */
function spawnPreferredByOomKiller(spawnIt: () => ChildProcess): ChildProcess {
  const own = readOomScoreAdj('self');
  const raised = own !== undefined && own < OOM_SCORE_ADJ_MAX && writeOomScoreAdj('self', Math.min(OOM_SCORE_ADJ_MAX, own + COMMAND_OOM_SCORE_ADJ_RAISE));
  try {
    return spawnIt();
  } finally {
    if (raised) writeOomScoreAdj('self', own);
  }
}

/**
 * Runs a command directly (no shell, arguments exactly as given) with stdio passed through, in
 * koncli's own process group (so a terminal's job control, Ctrl-C and a pager or editor in the
 * command work as without koncli), and records every process it starts (DescendantTracker).
 * SIGINT, SIGTERM and SIGHUP sent to koncli are delivered to all of them until `close()`.
 */
export class SupervisedChild {
  private readonly child: ChildProcess;
  /** The command's own exit; rejects when it could not be started (ENOENT, EACCES). */
  readonly exited: Promise<ChildExit>;
  private readonly tracker: DescendantTracker | undefined;

  /** @param marker newRunMarker()'s `KONCLI_RUN_ID=…` entry, added to `env` */
  constructor(command: string, args: string[], env: NodeJS.ProcessEnv, marker = newRunMarker()) {
    const runId = marker.slice(marker.indexOf('=') + 1);
    this.child = spawnPreferredByOomKiller(() => spawn(command, args, { stdio: 'inherit', env: { ...env, [RUN_ID_VARIABLE]: runId } }));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.exited.then(
      () => this.tracker?.hurry(),
      () => {},
    );
    if (this.child.pid !== undefined) this.tracker = new DescendantTracker(this.child.pid, marker);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The command's processes (itself included) alive now. */
  alive(): ProcessInfo[] {
    return this.tracker?.alive() ?? [];
  }

  /**
   * The command's processes still alive, given up to `settleMs` to finish dying (a process that was
   * just signalled along with the command exits a moment after it).
   */
  async remaining(settleMs = 250): Promise<ProcessInfo[]> {
    if (this.alive().length === 0) return [];
    const settle = new AbortController();
    await Promise.race([this.whenAllExited(), sleepFor(settleMs, settle.signal)]);
    settle.abort();
    return this.alive();
  }

  /** Resolves when none of the command's processes is left. */
  whenAllExited(): Promise<void> {
    return this.tracker?.whenEmpty() ?? Promise.resolve();
  }

  /**
   * Delivers a signal sent to koncli. A SIGINT while koncli is in the foreground process group of
   * its terminal came from the terminal (Ctrl-C), which has already delivered it to every process
   * of that group: those do not get it twice (a second Ctrl-C means "force" to some programs).
   */
  deliver(signal: NodeJS.Signals): number[] {
    const terminal = signal === 'SIGINT' ? ownTerminalGroup() : undefined;
    const fromTerminal = terminal?.foreground === true;
    return this.tracker?.signal(signal, (p) => !fromTerminal || p.pgrp !== terminal.pgrp) ?? [];
  }

  /**
   * Sends `signal` to the command and every process it started, then SIGKILL to whatever is left
   * after `killAfterMs` (any length: core/timer.ts), until none is left. Resolves then.
   */
  async stop(signal: NodeJS.Signals, killAfterMs: number, onStuck?: (pids: number[]) => void): Promise<void> {
    await this.tracker?.stop(signal, killAfterMs, onStuck);
  }

  /** Stops recording processes. */
  close(): void {
    this.tracker?.close();
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
