import { DATE_HEADER_PRECISION_MS } from './timing.js';

/**
 * Relates the API server's clock to this machine's *monotonic* clock (Clock.now), from the
 * server's own `Date` headers: a step of the local wall clock changes nothing here.
 *
 * A response sent at monotonic L_send and received at L_recv whose `Date` reads D (whole
 * seconds) proves that, at one instant between L_send and L_recv, the server clock read between
 * D and D+1s. Hence (server − monotonic) lies in [D − L_recv, D + 1s − L_send]. The tightest
 * bounds seen are kept; clock-rate drift over one process's life is negligible next to a second.
 *
 * Assumption (docs/clock.md): every `Date` comes from the clock that stamps writes. Several API
 * servers, or a proxy writing its own `Date`, may break it; ExpiryTracker therefore never lets
 * this clock alone end a claim early.
 */
export class ServerClock {
  private offsetLow: number | undefined;
  private offsetHigh: number | undefined;

  /** One `Date` header (ms since the epoch) of a request sent and answered at monotonic instants. */
  sample(serverDateMs: number, sentMonotonicMs: number, receivedMonotonicMs: number): void {
    if (!Number.isFinite(serverDateMs)) return;
    const low = serverDateMs - receivedMonotonicMs;
    const high = serverDateMs + DATE_HEADER_PRECISION_MS - sentMonotonicMs;
    if (this.offsetLow === undefined || low > this.offsetLow) this.offsetLow = low;
    if (this.offsetHigh === undefined || high < this.offsetHigh) this.offsetHigh = high;
  }

  get known(): boolean {
    return this.offsetLow !== undefined;
  }

  /**
   * The monotonic time by which a server-clock instant has certainly passed. Give it a server time
   * that is an upper bound of the real event (e.g. a whole-second stamp plus one second).
   */
  localDeadlineOf(serverMs: number): number | undefined {
    return this.offsetLow === undefined ? undefined : serverMs - this.offsetLow;
  }

  /** An upper bound of the server clock at a monotonic instant (for stamping expiries we write). */
  serverTimeAtMost(monotonicMs: number): number | undefined {
    return this.offsetHigh === undefined ? undefined : monotonicMs + this.offsetHigh;
  }
}
