import { ChangeFeed } from '../feed.js';
import type { Clock } from '../clock.js';
import { isKind } from '../errors.js';
import { Backoff, DEFAULT_BACKOFF } from '../retry.js';
import type { Versioned, Watchable } from '../store.js';
import type { HolderTiming } from '../timing.js';
import { SLEEP_NOT_NEEDED } from '../timer.js';
import { watchUntilDecided, type Decision } from '../wait.js';
import { readOf, type Planner } from './engine.js';
import type { ClaimContext, ClaimKind, RecordObject } from './model.js';

/**
 * What a held claim needs kept, for any kind: the object it lives in, the kind's rules for "still
 * mine" and "renew". `T` is the stored object as the kind's store reads it (a RecordObject, a
 * kube-lock ConfigMap, an annotated object).
 */
export interface KeptClaim<T extends Versioned> {
  /** "mutex X", "semaphore X": how messages name the claim. */
  what: string;
  store: Watchable<T>;
  /** The object's name in `store`. */
  name: string;
  /** The object as our acquiring write left it. */
  written: T;
  /** Monotonic ms the acquiring write was sent. */
  sentAt: number;
  /** Why the claim is no longer ours in `obj` (null: deleted), or undefined while it is. */
  lostIn: (obj: T | null) => string | undefined;
  /** One renewal from the newest copy known: the object as written (resourceVersion-guarded); throws `lost` when it is not ours. */
  renew: (current: T | null) => Promise<T>;
  /** Runs `fn` with each request bounded by `ms`, when the store can. */
  withRequestTimeout?: <R>(ms: number, fn: () => Promise<R>) => Promise<R>;
  /** The running watch that waited for the claim, adopted instead of opening another (one watch, not two). */
  watching?: ChangeFeed<T>;
}

/** What the keeper needs of a HolderTiming (core/timing.ts): renew period, renew deadline, retry, attempt bound. */
export type KeeperTiming = Pick<HolderTiming, 'renewEveryMs' | 'renewDeadlineMs' | 'retryMs'> & Partial<Pick<HolderTiming, 'attemptTimeoutMs'>>;

/** A claim of a kind on the claim engine (core/claim/engine.ts), as the keeper keeps it. */
export function engineClaim<S>(
  ctx: ClaimContext,
  claim: {
    kind: ClaimKind<S>;
    name: string;
    written: RecordObject;
    sentAt: number;
    lostIn: (state: S | null) => string | undefined;
    renew: Planner<S, RecordObject>;
  },
): KeptClaim<RecordObject> {
  const { kind, name } = claim;
  return {
    what: `${kind.kind} ${name}`,
    store: ctx.store,
    name,
    written: claim.written,
    sentAt: claim.sentAt,
    lostIn: (obj) => claim.lostIn(obj ? (readOf(ctx, kind, name, obj).state ?? null) : null),
    renew: async (current) => {
      const read = readOf(ctx, kind, name, current);
      const plan = claim.renew(read);
      if (!('write' in plan) || !('result' in plan)) throw new Error(`unexpected renewal plan for ${kind.kind} ${name}`);
      return ctx.store.write(read.obj!, kind.encode(plan.write));
    },
    withRequestTimeout: ctx.withRequestTimeout,
  };
}

/**
 * Keeps a held claim of any kind renewed and reports its loss, never silently. Lost means: the watch or a renewal
 * shows the claim gone or someone else's (a force, a re-applied annotation), renewal is refused, or
 * no renewal sent within the renew deadline succeeded (measured from when it was sent: it passes
 * before any observer's expiry).
 */
export class ClaimKeeper<T extends Versioned> {
  private stopped = false;
  private readonly stop$ = new AbortController();
  private lastOkSentAt: number;
  private readonly feed: ChangeFeed<T>;
  private readonly adopted: boolean;
  /** Why the claim was lost, once it was. */
  lostBecause: string | undefined;
  readonly lost: Promise<string>;
  private declareLost!: (reason: string) => void;
  private renewed: (() => void) | undefined;
  renewals = 0;

  constructor(
    private readonly clock: Clock,
    private readonly claim: KeptClaim<T>,
    private readonly timing: KeeperTiming,
    private readonly onNotice?: (message: string) => void,
  ) {
    this.lastOkSentAt = claim.sentAt;
    this.lost = new Promise((resolve) => (this.declareLost = resolve));
    this.adopted = claim.watching !== undefined;
    this.feed = claim.watching ?? new ChangeFeed(claim.store, claim.name, clock, claim.written, onNotice);
  }

  start(): void {
    if (!this.adopted) this.feed.start();
    void this.loop().catch((err: unknown) => this.lose(`keeping ${this.claim.what} failed: ${(err as Error).message}`));
  }

  stop(): void {
    this.stopped = true;
    this.stop$.abort();
    this.feed.stop();
  }

  /** The newest copy of the object known (for the release that follows). */
  get latest(): T | null {
    return this.feed.current();
  }

  /** Monotonic ms by which a renewal must succeed: the last successful one's sending plus the renew deadline. */
  get deadline(): number {
    return this.lastOkSentAt + this.timing.renewDeadlineMs;
  }

  /** Calls `listener` after each successful renewal (the deadline moved on; a watchdog is told). */
  onRenewal(listener: () => void): void {
    this.renewed = listener;
  }

  /**
   * The first thing to do after a pause (a stopped process, a blocked event loop) and before acting
   * on the claim: declares it lost when the renew deadline has passed meanwhile. True when lost (now or before).
   */
  checkDeadline(): boolean {
    if (!this.stopped && this.clock.now() >= this.deadline) this.lose(this.missedDeadline());
    return this.lostBecause !== undefined;
  }

  private missedDeadline(): string {
    return `no renewal of ${this.claim.what} succeeded within the renew deadline (${Math.round(this.timing.renewDeadlineMs)} ms)`;
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.lostBecause = reason;
    this.declareLost(reason);
  }

  private async loop(): Promise<void> {
    const { clock } = this;
    const { renewEveryMs, retryMs } = this.timing;
    const backoff = new Backoff({ ...DEFAULT_BACKOFF, initialMs: Math.min(DEFAULT_BACKOFF.initialMs, retryMs), capMs: retryMs });
    let nextRenewAt = this.lastOkSentAt + renewEveryMs;
    const stopped = new Error('stopped');
    const lost = await watchUntilDecided(
      this.feed,
      clock,
      { deadline: Infinity, startedAt: clock.now(), signal: this.stop$.signal },
      (seen): Decision<T, string> => {
        const now = clock.now();
        const deadline = this.deadline;
        const why = this.claim.lostIn(seen);
        if (why !== undefined) return { done: why };
        if (now >= deadline) return { done: this.missedDeadline() };
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
            this.onNotice?.(`renewal of ${this.claim.what} failed (${why}); retrying until the renew deadline, in ${Math.ceil((deadline - now) / 1000)}s`);
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
   * One renewal attempt, bounded by the attempt timeout (a request lost on the way leaves room for
   * another try) and by the deadline: undefined when it succeeded, else why not. Transient failures
   * are not retried inside: the loop's backoff (core/retry.ts) does that.
   */
  private async renew(sentAt: number, deadline: number): Promise<unknown> {
    const boundMs = Math.min(deadline - sentAt, this.timing.attemptTimeoutMs ?? Infinity);
    if (this.clock.now() >= deadline) return new Error('the renew deadline passed before the renewal was sent'); // paused since the decision: never renew late
    const once = () => this.claim.renew(this.feed.current());
    const attempt = this.claim.withRequestTimeout ? this.claim.withRequestTimeout(boundMs, once) : once();
    const timeout = new AbortController();
    const outcome = await Promise.race([
      attempt.then(
        (written) => ({ written }),
        (error: unknown) => ({ error }),
      ),
      this.clock.sleep(boundMs, timeout.signal).then(() => ({ error: new Error('timed out') })),
    ]);
    timeout.abort(SLEEP_NOT_NEEDED);
    if ('written' in outcome) {
      this.feed.offer(outcome.written);
      this.lastOkSentAt = sentAt;
      this.renewals++;
      this.renewed?.();
      return undefined;
    }
    if (isKind(outcome.error, 'lost')) this.lose((outcome.error as Error).message);
    attempt.catch(() => {});
    return outcome.error;
  }
}
