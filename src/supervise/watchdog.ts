// The dead-man's switch of `lease run` (docs/lease-run.md, "The watchdog"): a process of its own
// (`koncli __watchdog`, in its own session) that bounds the command's life outside koncli's event
// loop. koncli arms it before the command starts and extends its deadline after every renewal; if
// the deadline passes without a word (koncli killed by SIGKILL or the OOM killer, stopped, blocked
// on a write, starved) or koncli's end of the channel closes without `done`, the watchdog stops the
// command's whole process tree itself — the signal, then SIGKILL — before the lease could expire.
// It loads nothing but this folder and core/timer.ts: no oclif, no client-node, no listr2.
//
// Protocol (lines; watchdog-client.ts is koncli's side):
//   watchdog → koncli (its stdout): `ready`, `fired REASON`
//   koncli → watchdog (its stdin):  `arm JSON` (WatchdogArm), `deadline MS`, `pid PID`, `stopping`, `done`
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { after, sleepFor, type Timer } from '../core/timer.js';
import { DescendantTracker } from './descendants.js';
import { processInfo } from './process-tree.js';
import { readLines, type WatchdogArm } from './watchdog-protocol.js';
import { WatchdogDeadline } from './watchdog-deadline.js';

/** Runs the watchdog; it ends the process itself (done, nothing left to stop, or all of it stopped). */
export async function main(): Promise<never> {
  // Its own session already keeps a terminal's Ctrl-C and a signal to koncli's group away; a signal
  // sent to it directly must not end it before its job is done either.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
  process.stdout.on('error', () => {}); // koncli gone: nobody to tell
  const watchdog = new Switch();
  readLines(
    process.stdin,
    (line) => watchdog.message(line),
    () => watchdog.channelClosed(),
  );
  process.stdout.write('ready\n');
  return new Promise<never>(() => {});
}

class Switch {
  private arm: WatchdogArm | undefined;
  private deadline: WatchdogDeadline | undefined;
  private tracker: DescendantTracker | undefined;
  private timer: Timer | undefined;
  private firing = false;
  /** This process's start: whatever carries the run's marker started after it. */
  private readonly since = processInfo(process.pid)?.start;

  message(line: string): void {
    const space = line.indexOf(' ');
    const [verb, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    if (verb === 'arm') this.armWith(JSON.parse(rest) as WatchdogArm);
    else if (verb === 'deadline') this.extend(Number(rest));
    else if (verb === 'pid') this.adopt(Number(rest));
    else if (verb === 'stopping') void this.fire(undefined);
    else if (verb === 'done') process.exit(0);
  }

  /** koncli's end closed without `done`: koncli is gone (killed, crashed, exited early). */
  channelClosed(): void {
    if (!this.arm) process.exit(0); // the command never started
    void this.fire(`koncli (pid ${this.arm.koncli}) ended while its command ran under ${this.arm.claim}`);
  }

  private armWith(arm: WatchdogArm): void {
    this.arm = arm;
    this.deadline = new WatchdogDeadline(arm.graceMs);
    this.tracker = new DescendantTracker(undefined, arm.marker, this.since);
    this.extend(arm.deadlineMs);
  }

  private extend(ms: number): void {
    if (this.firing || !this.deadline || !this.arm) return;
    const arm = this.arm;
    this.deadline.extend(performance.now(), ms);
    this.timer?.cancel();
    this.timer = after(this.deadline.untilDue(performance.now()), () => {
      void this.fire(`koncli (pid ${arm.koncli}) confirmed no renewal of ${arm.claim} in time (stopped, blocked or starved)`);
    });
  }

  private adopt(pid: number): void {
    if (!this.tracker) return;
    this.tracker.add(pid);
    // Nothing of the command left (and koncli did not stop it): nothing left to guard.
    void this.tracker.whenEmpty().then(() => {
      if (!this.firing) process.exit(0);
    });
  }

  /**
   * Stops the command's processes: `reason` says why the watchdog acts; undefined means koncli is
   * stopping them itself, and the watchdog only sends SIGKILL to what is left at the kill time.
   */
  private async fire(reason: string | undefined): Promise<void> {
    if (this.firing || !this.deadline || !this.tracker || !this.arm) return;
    this.firing = true;
    this.timer?.cancel();
    const now = performance.now();
    const graceMs = Math.max(0, this.deadline.killAt(now) - now);
    if (reason === undefined) {
      const settled = new AbortController();
      await Promise.race([this.tracker.whenEmpty(), sleepFor(graceMs, settled.signal)]);
      settled.abort();
      await this.tracker.stop('SIGKILL', 0);
      process.exit(0);
    }
    process.stdout.write(`fired ${reason}\n`);
    await this.tracker.stop(this.arm.signal, graceMs);
    tell(
      `koncli: error: ${reason}; the watchdog stopped the command and every process it started (${this.arm.signal}, then SIGKILL after ${(graceMs / 1000).toFixed(1)}s)\n`,
    );
    process.exit(0);
  }
}

/**
 * One line on stderr that never blocks the watchdog: a file is written as it is (a file does not
 * block, and its offset is shared with koncli and the command); a pipe or terminal (one nobody
 * reads, one paused with Ctrl-S) through a non-blocking descriptor of its own, the line dropped
 * when it would block; a socket not at all (it cannot be reopened so).
 */
function tell(line: string): void {
  let fd: number | undefined;
  try {
    const stderr = fstatSync(2);
    if (stderr.isFile()) return void writeSync(2, line);
    if (!stderr.isFIFO() && !stderr.isCharacterDevice()) return;
    fd = openSync('/proc/self/fd/2', constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, line);
  } catch {
    // dropped
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
