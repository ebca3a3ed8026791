import { exitCodeOf, FORWARDED, type ChildExit, type SupervisedChild } from '../supervise/child.js';
import { formatDuration } from './duration.js';
import { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

/** What to do with processes the command started that still run when it exits (docs/lease-run.md). */
export type OrphanPolicy = 'stop' | 'wait';
export const ORPHAN_POLICIES: OrphanPolicy[] = ['stop', 'wait'];

/** A claim held while a command runs (a lease, a mutex, a once's run): how its loss shows, and how it is given back. */
export interface Hold {
  /** "lease X", "mutex X": how messages name it. */
  what: string;
  /** Resolves with why, once the claim is lost (the keeper's verdict). */
  lost: Promise<string>;
  /** Stops renewing. */
  stopKeeping(): void;
  /** Gives the claim back once the command (exit code `commandExit`) and what it started are done (after stopKeeping). */
  release(commandExit: number): Promise<void>;
  /**
   * After any pause (koncli stopped, starved, blocked): why the claim must be taken as lost because
   * its renew deadline passed (the keeper's own verdict, on the monotonic clock), else undefined.
   */
  lapsed?(): string | undefined;
}

/** The dead-man's switch of a run, as supervision sees it (src/supervise/watchdog-client.ts). */
export interface RunWatchdog {
  /** Resolves with the watchdog's reason when it stopped the command itself. */
  fired: Promise<string>;
  /** koncli is stopping the command itself: the watchdog only makes sure SIGKILL lands in time. */
  stopping(): void;
}

export interface SupervisionOptions {
  output: Output;
  /** The command's file (for "cannot run X"). */
  command: string;
  /** Sent to the command's processes before SIGKILL. */
  signal: NodeJS.Signals;
  /** ms between `signal` and SIGKILL. */
  killAfterMs: number;
  orphans: OrphanPolicy;
  /** The run's watchdog, when it has one: its firing is a loss, and it is told when koncli stops the command. */
  watchdog?: RunWatchdog;
}

/** How a supervised run ended. */
export interface Supervised {
  outcome: 'completed' | 'lost';
  reason?: string;
  /** The command's own exit code (128+N: signal N; 127/126: it could not be started). */
  commandExit: number;
  /** Processes the command started that were still running when it exited. */
  leftovers: number;
  /** koncli's exit code: the command's, or 4 (lost). */
  exitCode: number;
}

/** The signals of a whole `run`, as `forwardingSignals` hands them to it. */
export interface RunSignals {
  /** Aborted by a signal that arrives before the command started (gives up a wait). */
  interrupted: AbortSignal;
  /** The first such signal, if any: the command then never starts. */
  pending: () => NodeJS.Signals | undefined;
  /** From now on, signals go to `child` and everything it started. */
  started: (child: SupervisedChild) => void;
}

/**
 * One listener for a whole `run`: while waiting, SIGINT/SIGTERM/SIGHUP give up the wait; once the
 * command runs, they are delivered to everything it started. (Between the two, a signal would
 * otherwise find no listener and kill koncli with the command left running.)
 */
export async function forwardingSignals<R>(body: (signals: RunSignals) => Promise<R>): Promise<R> {
  const interrupted = new AbortController();
  let child: SupervisedChild | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (child) child.deliver(signal);
    else {
      pendingSignal ??= signal;
      interrupted.abort();
    }
  };
  for (const s of FORWARDED) process.on(s, onSignal);
  try {
    return await body({ interrupted: interrupted.signal, pending: () => pendingSignal, started: (c) => (child = c) });
  } finally {
    for (const s of FORWARDED) process.off(s, onSignal);
  }
}

/**
 * The command runs under a held claim (docs/lease-run.md; every `run` verb shares this). It ends
 * when the command and everything it started are done (then the claim is released), or when the
 * claim is lost (then all of them are stopped: --signal, then SIGKILL after --kill-after).
 */
export function supervise(hold: Hold, child: SupervisedChild, opts: SupervisionOptions): Promise<Supervised> {
  return new Supervision(hold, child, opts).result();
}

class Supervision {
  private lostReason: string | undefined;
  private readonly lost: Promise<{ lost: string }>;
  private readonly stopping: string;

  constructor(
    private readonly hold: Hold,
    private readonly child: SupervisedChild,
    private readonly opts: SupervisionOptions,
  ) {
    // The watchdog stopped the command itself: koncli was paused past the deadline (and its own keeper says so on waking).
    const fired = (opts.watchdog?.fired ?? new Promise<string>(() => {})).then((reason) => {
      hold.stopKeeping();
      return `the watchdog stopped the command: ${reason}`;
    });
    this.lost = Promise.race([hold.lost, fired]).then((reason) => {
      this.lostReason = reason;
      return { lost: reason };
    });
    this.stopping = `${opts.signal}, then SIGKILL after ${formatDuration(opts.killAfterMs)}`;
  }

  async result(): Promise<Supervised> {
    const { output } = this.opts;
    const ended = await Promise.race([
      this.child.exited.then(
        (exit) => ({ exit }),
        (error: NodeJS.ErrnoException) => ({ spawnError: error }),
      ),
      this.lost,
    ]);
    if ('lost' in ended) return this.lostWhileRunning(ended.lost);
    // After any pause (the command may have ended while koncli was stopped): the deadline before anything else.
    const lapsed = this.lapsed();
    if (lapsed !== undefined) return this.lostWhileRunning(lapsed);
    if ('spawnError' in ended) output.error(`cannot run ${this.opts.command}: ${ended.spawnError.message}`);
    const code = 'exit' in ended ? exitCodeOf(ended.exit) : ended.spawnError.code === 'ENOENT' ? 127 : 126;
    // The command is done; what it started may not be. The claim stays held (and renewed) until none of it is left.
    const leftovers = await this.child.remaining();
    if (leftovers.length > 0) {
      const lostMeanwhile = await this.outlive(
        leftovers.map((p) => p.pid),
        code,
      );
      if (lostMeanwhile) return this.outcome('lost', code, leftovers.length, ExitCode.LOST);
    }
    const lapsedMeanwhile = this.lapsed();
    if (lapsedMeanwhile !== undefined) {
      await this.stopAll(lapsedMeanwhile); // nothing is written to a claim that lapsed
      return this.outcome('lost', code, leftovers.length, ExitCode.LOST);
    }
    this.hold.stopKeeping();
    await this.hold.release(code);
    return this.outcome('completed', code, leftovers.length, code);
  }

  private async lostWhileRunning(why: string): Promise<Supervised> {
    await this.stopAll(why);
    const exit = await this.child.exited.catch((): ChildExit => ({ code: null, signal: null }));
    return this.outcome('lost', exitCodeOf(exit), 0, ExitCode.LOST);
  }

  /** The hold's verdict after a pause: the reason when its renew deadline passed (the claim is then lost), else undefined. */
  private lapsed(): string | undefined {
    const why = this.hold.lapsed?.();
    if (why !== undefined) this.lostReason ??= why;
    return this.lostReason;
  }

  /** Waits for (--orphans wait) or stops the processes left behind; true when the claim was lost meanwhile. */
  private async outlive(pids: number[], code: number): Promise<boolean> {
    const { output, orphans, signal, killAfterMs } = this.opts;
    const n = pids.length;
    const what = `the command exited (${code}) but ${n} process${n > 1 ? 'es' : ''} it started still run${n > 1 ? '' : 's'} (pid ${pids.join(', ')})`;
    if (orphans === 'wait') {
      output.warn(`${what}; holding ${this.hold.what} until ${n > 1 ? 'they exit' : 'it exits'} (--orphans wait)`);
      const settled = await Promise.race([this.child.whenAllExited().then(() => ({ gone: true as const })), this.lost]);
      if (!('lost' in settled)) return false;
      await this.stopAll(settled.lost);
      return true;
    }
    output.warn(`${what}; stopping ${n > 1 ? 'them' : 'it'} (${this.stopping}) before releasing ${this.hold.what}`);
    await this.child.stop(signal, killAfterMs, this.onStuck);
    if (this.lostReason === undefined) return false;
    output.error(`${this.hold.what.split(' ')[0]} lost while the command's processes were being stopped: ${this.lostReason}`);
    return true;
  }

  private readonly onStuck = (pids: number[]) =>
    this.opts.output.warn(
      `cannot signal process${pids.length > 1 ? 'es' : ''} ${pids.join(', ')} (not permitted: another user's); holding ${this.hold.what} until ${pids.length > 1 ? 'they exit' : 'it exits'}`,
    );

  private async stopAll(why: string): Promise<void> {
    this.opts.watchdog?.stopping();
    // Stop first, write after: stop() signals every process before its first await.
    const stopped = this.child.stop(this.opts.signal, this.opts.killAfterMs, this.onStuck);
    this.opts.output.error(`${this.hold.what.split(' ')[0]} lost: ${why}; stopping the command and every process it started (${this.stopping})`);
    await stopped;
  }

  private outcome(outcome: 'completed' | 'lost', commandExit: number, leftovers: number, exitCode: number): Supervised {
    return { outcome, ...(outcome === 'lost' ? { reason: this.lostReason } : {}), commandExit, leftovers, exitCode };
  }
}
