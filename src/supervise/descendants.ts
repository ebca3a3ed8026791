import { after, sleepFor, type Timer } from '../core/timer.js';
import { environHas, hasProc, isSameLiveProcess, listProcesses, processInfo, signalEach, type ProcessInfo } from './process-tree.js';

/** Scan interval while processes come and go; it doubles up to SLOW_MS while nothing new appears. */
const FAST_MS = 50;
const SLOW_MS = 1000;

/**
 * Records, continuously, every process a command started — so they can be signalled, and so the
 * lease is kept until none is left. Two ways in, both on Linux's /proc (docs/lease-run.md):
 *
 * - the process tree: every scan adds the children of every process already recorded. A recorded
 *   process stays recorded (by pid and start time, so a reused pid is not mistaken for it) after
 *   its parent exits and it is reparented to init or a subreaper — a daemon that double-forks
 *   while it is being watched is not lost;
 * - an environment marker (`KONCLI_RUN_ID=<random>`, given to the command): a process started after
 *   the command whose initial environment carries it is the command's, even if it was reparented
 *   before any scan saw it (a double fork faster than the scan interval).
 *
 * Not found: a process that both cleared its environment (`env -i`, sudo's env_reset) and was
 * reparented between two scans (FAST_MS apart while processes come and go, at most SLOW_MS); a
 * process in another pid namespace. Without /proc (macOS) only the tree is walked, via `ps`.
 * Node cannot become a child subreaper (PR_SET_CHILD_SUBREAPER) nor use pidfds, hence this.
 */
export class DescendantTracker {
  /** The command's processes alive at the last scan, by pid. */
  private readonly tracked = new Map<number, ProcessInfo>();
  /** `pid:start` of processes known not to be the command's (their environment was read, without the marker). */
  private foreign = new Set<string>();
  /** Processes started before this (clock ticks since boot) are never the command's: the marker is not looked for in them. */
  private readonly since: number | undefined;
  private readonly useMarker = hasProc();
  private timer: Timer | undefined;
  private intervalMs = FAST_MS;
  private closed = false;
  private emptyWaiters: (() => void)[] = [];

  /**
   * @param root the command's pid; undefined: not known yet (the watchdog, armed before the command
   *   starts, finds it by the marker or is told it later: `add`)
   * @param marker the `NAME=value` environment entry given to the command
   * @param since start time (clock ticks since boot, as ProcessInfo.start) before which no process
   *   is the command's; default: the root's start time
   */
  constructor(
    root: number | undefined,
    private readonly marker: string,
    since?: number,
  ) {
    const info = root === undefined ? undefined : processInfo(root);
    this.since = since ?? info?.start;
    if (root !== undefined) this.tracked.set(root, info ?? { pid: root, ppid: process.pid, pgrp: 0, start: 0, zombie: false });
    this.scan();
    this.schedule();
  }

  /** Records `pid` (the command, once started) and what it started. */
  add(pid: number): void {
    const info = processInfo(pid);
    if (info && !info.zombie) this.tracked.set(pid, info);
    this.hurry();
  }

  /** Stops the background scans. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    for (const wake of this.emptyWaiters.splice(0)) wake();
  }

  /** The command's processes still alive, after a fresh scan. */
  alive(): ProcessInfo[] {
    this.scan();
    return [...this.tracked.values()];
  }

  /** Scan soon and often again: something is changing (a signal was sent, the command exited). */
  hurry(): void {
    this.intervalMs = FAST_MS;
    if (!this.closed) {
      this.timer?.cancel();
      this.schedule();
    }
  }

  /** Resolves when a scan finds none of the command's processes alive (or on close). */
  whenEmpty(): Promise<void> {
    if (this.alive().length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /**
   * Sends `signal` to each recorded process that `which` accepts, after a fresh scan, checking just
   * before each signal that the pid still names the recorded process. Returns the pids reached.
   */
  signal(signal: NodeJS.Signals, which: (p: ProcessInfo) => boolean = () => true): number[] {
    const targets = this.alive()
      .filter(which)
      .filter((p) => p.start === 0 || processInfo(p.pid)?.start === p.start);
    this.hurry();
    return signalEach(
      targets.map((p) => p.pid),
      signal,
    );
  }

  /**
   * Stops every recorded process: `signal` now, then SIGKILL to whatever is left after `graceMs`
   * (and to anything started meanwhile), until none is left. Processes that cannot be signalled
   * (EPERM: another user's, through sudo or setuid) are waited for; `onStuck` is told once.
   */
  async stop(signal: NodeJS.Signals, graceMs: number, onStuck?: (pids: number[]) => void): Promise<void> {
    this.signal(signal);
    const grace = new AbortController();
    await Promise.race([this.whenEmpty(), sleepFor(graceMs, grace.signal)]);
    grace.abort();
    let told = false;
    for (;;) {
      const targets = this.alive();
      if (targets.length === 0 || this.closed) return;
      const reached = this.signal('SIGKILL');
      // Stuck: still this very process, alive (not a zombie, its pid not reused) and not signalled: another user's.
      const stuck = targets.filter((p) => !reached.includes(p.pid) && isSameLiveProcess(p)).map((p) => p.pid);
      if (stuck.length > 0 && !told) {
        told = true;
        onStuck?.(stuck);
      }
      await sleepFor(stuck.length > 0 ? SLOW_MS : FAST_MS);
    }
  }

  private schedule(): void {
    this.timer = after(this.intervalMs, () => {
      if (this.closed) return;
      const before = this.tracked.size;
      const grew = this.scan() || this.tracked.size !== before;
      this.intervalMs = grew ? FAST_MS : Math.min(SLOW_MS, this.intervalMs * 2);
      this.schedule();
    });
  }

  /** Brings `tracked` up to date. True when it found a process it did not know. */
  private scan(): boolean {
    const all = listProcesses();
    for (const [pid, known] of this.tracked) {
      const now = all.get(pid);
      if (!now || now.zombie || (known.start !== 0 && now.start !== known.start)) this.tracked.delete(pid);
      else this.tracked.set(pid, now);
    }
    let found = false;
    if (this.useMarker && this.since !== undefined) {
      const foreign = new Set<string>();
      for (const p of all.values()) {
        if (this.tracked.has(p.pid) || p.zombie || p.start < this.since || p.pid === process.pid) continue;
        const key = `${p.pid}:${p.start}`;
        if (this.foreign.has(key)) {
          foreign.add(key);
          continue;
        }
        const ours = environHas(p.pid, this.marker);
        if (ours) {
          this.tracked.set(p.pid, p);
          found = true;
        } else if (ours === false) {
          foreign.add(key); // read and not ours; unreadable or empty (mid-execve) is asked again next scan
        }
      }
      this.foreign = foreign; // forget processes that are gone
    }
    const children = new Map<number, ProcessInfo[]>();
    for (const p of all.values()) if (!p.zombie) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
    for (const queue = [...this.tracked.keys()]; queue.length > 0;) {
      for (const child of children.get(queue.pop()!) ?? []) {
        if (this.tracked.has(child.pid) || child.pid === process.pid) continue;
        this.tracked.set(child.pid, child);
        queue.push(child.pid);
        found = true;
      }
    }
    if (this.tracked.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    return found;
  }
}
