import { ChangeFeed } from '../feed.js';
import { isKind } from '../errors.js';
import type { LeaseContext } from './context.js';
import type { LeaseRecord } from './model.js';
import { renewLease } from './renew.js';
import { holderTiming, type HolderTiming } from '../timing.js';

/** What the keeper needs of a HolderTiming (core/timing.ts): renew period, renew deadline, retry, attempt bound. */
export type KeeperTiming = Pick<HolderTiming, 'renewEveryMs' | 'renewDeadlineMs' | 'retryMs'> & Partial<Pick<HolderTiming, 'attemptTimeoutMs'>>;

/**
 * client-go's proportions (core/timing.ts): renew at a third of the TTL, deadline at two thirds, so
 * the holder stops its work with a third of the TTL to spare before anyone else could take the lease;
 * each renewal request bounded so that another try fits before the deadline.
 */
export const keeperTiming = (ttlSeconds: number, requestTimeoutMs?: number): HolderTiming => holderTiming(ttlSeconds, requestTimeoutMs);

/**
 * Keeps a held lease renewed in the background and reports its loss — never silently. Lost means:
 * another holder appears (seen on the watch or on renewal), the lease vanishes, renewal is refused,
 * or no renewal has succeeded within the renew deadline (measured from when it was sent, so the
 * deadline passes before any other observer can judge the lease expired).
 */
export class LeaseKeeper {
  private stopped = false;
  private readonly stop$ = new AbortController();
  private lastOkSentAt: number;
  private record: LeaseRecord;
  private readonly feed: ChangeFeed<LeaseRecord>;
  private readonly adopted: boolean;
  readonly lost: Promise<string>;
  private declareLost!: (reason: string) => void;
  renewals = 0;

  constructor(
    private readonly ctx: LeaseContext,
    private readonly name: string,
    private readonly holder: string,
    acquired: LeaseRecord,
    /** Monotonic time (Clock.now) the acquiring write was sent. */
    acquiredSentAt: number,
    private readonly timing: KeeperTiming,
    onNotice?: (message: string) => void,
    /** The running watch that waited for the lease (AcquireResult.feed), adopted instead of a new one. */
    watching?: ChangeFeed<LeaseRecord>,
  ) {
    this.record = acquired;
    this.lastOkSentAt = acquiredSentAt;
    this.lost = new Promise((resolve) => (this.declareLost = resolve));
    this.adopted = watching !== undefined;
    this.feed = watching ?? new ChangeFeed(ctx.store, name, ctx.clock, acquired, onNotice);
  }

  start(): void {
    if (!this.adopted) this.feed.start();
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.stop$.abort();
    this.feed.stop();
  }

  /** The newest state known: the watch's copy (it also sees waiters' writes), else our last write. */
  get latest(): LeaseRecord {
    return this.feed.current() ?? this.record;
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.declareLost(reason);
  }

  private async loop(): Promise<void> {
    let nextRenewAt = this.lastOkSentAt + this.timing.renewEveryMs;
    while (!this.stopped) {
      const now = this.ctx.clock.now();
      const deadline = this.lastOkSentAt + this.timing.renewDeadlineMs;
      const seen = this.feed.current();
      if (!seen) return this.lose(`lease ${this.name} was deleted`);
      if (seen.holding.holder !== this.holder) {
        return this.lose(`lease ${this.name} is now held by ${seen.holding.holder || 'nobody (released by someone else)'}`);
      }
      if (now >= deadline) {
        return this.lose(`no renewal of lease ${this.name} succeeded within the renew deadline (${Math.round(this.timing.renewDeadlineMs)} ms)`);
      }
      if (now >= nextRenewAt) {
        nextRenewAt = (await this.renew(now, deadline)) ? now + this.timing.renewEveryMs : now + this.timing.retryMs;
        continue;
      }
      await this.feed.waitForChange(Math.min(nextRenewAt, deadline), this.stop$.signal);
    }
  }

  /**
   * One renewal attempt, bounded by the attempt timeout (so a request lost on the way leaves room
   * for another try) and by the deadline. True when it succeeded.
   */
  private async renew(sentAt: number, deadline: number): Promise<boolean> {
    const boundMs = Math.min(deadline - sentAt, this.timing.attemptTimeoutMs ?? Infinity);
    // The watch's copy is at least as new as our own last write (it also sees waiters' writes).
    const renew = () => renewLease(this.ctx, { name: this.name, holder: this.holder }, this.feed.current() ?? this.record);
    // The request itself is aborted at the bound where the store can (a hung connection is then dropped).
    const attempt = this.ctx.withRequestTimeout ? this.ctx.withRequestTimeout(boundMs, renew) : renew();
    const timeout = new AbortController();
    const outcome = await Promise.race([
      attempt.then((record) => ({ record }), (error: unknown) => ({ error })),
      this.ctx.clock.sleep(boundMs, timeout.signal).then(() => ({ timedOut: true as const })),
    ]);
    timeout.abort();
    if ('record' in outcome) {
      this.record = outcome.record;
      this.feed.offer(outcome.record);
      this.lastOkSentAt = sentAt;
      this.renewals++;
      return true;
    }
    if ('error' in outcome && isKind(outcome.error, 'lost')) this.lose((outcome.error as Error).message);
    attempt.catch(() => {}); // a late failure of an abandoned attempt is irrelevant
    return false;
  }
}
