/**
 * The watchdog's deadline, pure: every time is monotonic milliseconds of the watchdog's own clock
 * (performance.now()), passed in. koncli tells the watchdog how long it has until the command must
 * be signalled ("deadline MS", counted by koncli from when its last successful renewal was *sent*);
 * the watchdog adds that to its own clock on receipt. Receipt comes after sending, so the watchdog's
 * deadline is later than koncli's by the delivery delay (microseconds on a pipe between two live
 * processes): the slack koncli adds to it (core/timing.ts, watchdogTiming) covers that.
 */
export class WatchdogDeadline {
  /** When the command is to get its signal; undefined until koncli arms the watchdog. */
  private signalAt: number | undefined;

  /** @param graceMs ms between the signal and SIGKILL (watchdogTiming: it fits before the lease could expire) */
  constructor(private readonly graceMs: number) {}

  get armed(): boolean {
    return this.signalAt !== undefined;
  }

  /**
   * koncli's word, received at `now`: the signal is due `ms` from now. The newest word counts,
   * even when it is earlier than the one before (each is an upper bound measured from its sending).
   */
  extend(now: number, ms: number): void {
    this.signalAt = now + Math.max(0, Number.isFinite(ms) ? ms : 0);
  }

  /** ms until the signal is due: Infinity while unarmed, 0 once due. */
  untilDue(now: number): number {
    return this.signalAt === undefined ? Infinity : Math.max(0, this.signalAt - now);
  }

  /**
   * When whatever is left gets SIGKILL, for a signal sent at `now`: the grace after it, but never
   * later than the grace after the deadline (a watchdog that fires late — starved, or told late —
   * does not stretch the end past the lease's).
   */
  killAt(now: number): number {
    return Math.min(now, this.signalAt ?? now) + this.graceMs;
  }
}
