/**
 * Relates the API server's clock to ours without ever comparing another machine's clock with
 * ours: every figure here comes from the server's own `Date` header.
 *
 * A response sent at local time L_send and received at L_recv whose `Date` reads D (whole
 * seconds) proves that, at one instant between L_send and L_recv, the server clock read between
 * D and D+1s. Hence (server - local) lies in [D - L_recv, D + 1s - L_send]. The tightest bounds
 * seen are kept; clock-rate drift over one process's life is negligible next to a second.
 */
export class ServerClock {
  private offsetLow: number | undefined;
  private offsetHigh: number | undefined;

  sample(serverDateMs: number, localSentMs: number, localReceivedMs: number): void {
    if (!Number.isFinite(serverDateMs)) return;
    const low = serverDateMs - localReceivedMs;
    const high = serverDateMs + 1000 - localSentMs;
    if (this.offsetLow === undefined || low > this.offsetLow) this.offsetLow = low;
    if (this.offsetHigh === undefined || high < this.offsetHigh) this.offsetHigh = high;
  }

  get known(): boolean {
    return this.offsetLow !== undefined;
  }

  /**
   * The local time by which a server-clock instant has certainly passed. Give it a server time
   * that is an upper bound of the real event (e.g. a whole-second stamp plus one second).
   */
  localDeadlineOf(serverMs: number): number | undefined {
    return this.offsetLow === undefined ? undefined : serverMs - this.offsetLow;
  }

  /** An upper bound of the server clock at a local instant (for stamping expiries we write). */
  serverTimeAtMost(localMs: number): number | undefined {
    return this.offsetHigh === undefined ? undefined : localMs + this.offsetHigh;
  }
}
