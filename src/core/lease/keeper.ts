import { ChangeFeed } from '../feed.js';
import { isKind } from '../errors.js';
import { Backoff, DEFAULT_BACKOFF } from '../retry.js';
import { watchUntilDecided, type Decision } from '../wait.js';
import type { LeaseContext } from './context.js';
import type { LeaseRecord } from './model.js';
import { renewLease } from './renew.js';
import type { HolderTiming } from '../timing.js';
import { SLEEP_NOT_NEEDED } from '../timer.js';

/** What the keeper needs of a HolderTiming (core/timing.ts): renew period, renew deadline, retry, attempt bound. */
export type KeeperTiming = Pick<HolderTiming, 'renewEveryMs' | 'renewDeadlineMs' | 'retryMs'> & Partial<Pick<HolderTiming, 'attemptTimeoutMs'>>;

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
    private readonly onNotice?: (message: string) => void,
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
    const { clock } = this.ctx;
    const { renewEveryMs, renewDeadlineMs, retryMs } = this.timing;
    // Failed renewals are retried by the one policy (src/core/retry.ts), at least every retryMs, until the renew deadline.
    const backoff = new Backoff({ ...DEFAULT_BACKOFF, initialMs: Math.min(DEFAULT_BACKOFF.initialMs, retryMs), capMs: retryMs });
    let nextRenewAt = this.lastOkSentAt + renewEveryMs;
    const stopped = new Error('stopped');
    const lost = await watchUntilDecided(
      this.feed,
      clock,
      { deadline: Infinity, startedAt: clock.now(), signal: this.stop$.signal },
      (seen): Decision<LeaseRecord, string> => {
        const now = clock.now();
        const deadline = this.lastOkSentAt + renewDeadlineMs;
        if (!seen) return { done: `lease ${this.name} was deleted` };
        if (seen.uid !== undefined && this.record.uid !== undefined && seen.uid !== this.record.uid) {
          return { done: `lease ${this.name} was deleted and created again (another object, uid ${seen.uid})` };
        }
        if (seen.terminating) return { done: `lease ${this.name} is being deleted (deletionTimestamp ${seen.terminating.since})` };
        if (seen.holding.holder !== this.holder) {
          return { done: `lease ${this.name} is now held by ${seen.holding.holder || 'nobody (released by someone else)'}` };
        }
        if (now >= deadline) return { done: `no renewal of lease ${this.name} succeeded within the renew deadline (${Math.round(renewDeadlineMs)} ms)` };
        const giveUp = () => stopped;
        if (now < nextRenewAt) return { until: Math.min(nextRenewAt, deadline), giveUp };
        const renew = async () => {
          const failure = await this.renew(now, deadline);
          if (failure === undefined) {
            backoff.reset();
            nextRenewAt = now + renewEveryMs;
            return;
          }
          if (backoff.inARow === 0 && !this.stopped) {
            const why = failure instanceof Error ? failure.message : typeof failure === 'string' ? failure : 'unknown failure';
            this.onNotice?.(`renewal of lease ${this.name} failed (${why}); retrying until the renew deadline, in ${Math.ceil((deadline - now) / 1000)}s`);
          }
          nextRenewAt = now + backoff.next(failure);
        };
        return { until: now, giveUp, meanwhile: renew };
      },
    ).catch((err: unknown) => {
      if (err !== stopped) throw err;
    });
    if (lost !== undefined) this.lose(lost);
  }

  /**
   * One renewal attempt, bounded by the attempt timeout (so a request lost on the way leaves room
   * for another try) and by the deadline: undefined when it succeeded, else why it failed.
   * Transient failures are not retried inside: the loop's backoff (src/core/retry.ts) does that.
   */
  private async renew(sentAt: number, deadline: number): Promise<unknown> {
    const boundMs = Math.min(deadline - sentAt, this.timing.attemptTimeoutMs ?? Infinity);
    // The watch's copy is at least as new as our own last write (it also sees waiters' writes).
    const renew = () => renewLease(this.ctx, { name: this.name, holder: this.holder }, this.feed.current() ?? this.record, sentAt);
    // The request itself is aborted at the bound where the store can (a hung connection is then dropped).
    const attempt = this.ctx.withRequestTimeout ? this.ctx.withRequestTimeout(boundMs, renew) : renew();
    const timeout = new AbortController();
    const outcome = await Promise.race([
      attempt.then(
        (record) => ({ record }),
        (error: unknown) => ({ error }),
      ),
      this.ctx.clock.sleep(boundMs, timeout.signal).then(() => ({ error: 'timed out' })),
    ]);
    timeout.abort(SLEEP_NOT_NEEDED);
    if ('record' in outcome) {
      this.record = outcome.record;
      this.feed.offer(outcome.record);
      this.lastOkSentAt = sentAt;
      this.renewals++;
      return undefined;
    }
    if (isKind(outcome.error, 'lost')) this.lose((outcome.error as Error).message);
    attempt.catch(() => {}); // a late failure of an abandoned attempt is irrelevant
    return outcome.error;
  }
}
