import { ChangeFeed } from '../feed.js';
import { isKind } from '../errors.js';
import { Backoff, DEFAULT_BACKOFF } from '../retry.js';
import type { HolderTiming } from '../timing.js';
import { SLEEP_NOT_NEEDED } from '../timer.js';
import { watchUntilDecided, type Decision } from '../wait.js';
import { readOf, type Planner } from './engine.js';
import type { ClaimContext, ClaimKind, RecordObject } from './model.js';

/** What a held claim needs kept: the kind, the object, and the kind's own rules for "still mine" and "renew". */
export interface KeptClaim<S> {
  kind: ClaimKind<S>;
  name: string;
  holder: string;
  /** The object as our acquiring write left it. */
  written: RecordObject;
  /** Monotonic ms the acquiring write was sent. */
  sentAt: number;
  /** Why the claim is no longer ours in `state` (null: deleted), or undefined while it is. */
  lostIn: (state: S | null) => string | undefined;
  /** The renewal: re-stamps our claim; throws `lost` when it is not ours. */
  renew: Planner<S, RecordObject>;
}

/**
 * Keeps a held claim renewed and reports its loss, never silently (as LeaseKeeper does for leases;
 * the lease moves onto this keeper with issue 22's migration). Lost means: the watch or a renewal
 * shows the claim gone or someone else's, renewal is refused, or no renewal sent within the renew
 * deadline succeeded (measured from when it was sent: it passes before any observer's expiry).
 */
export class ClaimKeeper<S> {
  private stopped = false;
  private readonly stop$ = new AbortController();
  private lastOkSentAt: number;
  private readonly feed: ChangeFeed<RecordObject>;
  readonly lost: Promise<string>;
  private declareLost!: (reason: string) => void;
  renewals = 0;

  constructor(
    private readonly ctx: ClaimContext,
    private readonly claim: KeptClaim<S>,
    private readonly timing: Pick<HolderTiming, 'renewEveryMs' | 'renewDeadlineMs' | 'retryMs' | 'attemptTimeoutMs'>,
    private readonly onNotice?: (message: string) => void,
  ) {
    this.lastOkSentAt = claim.sentAt;
    this.lost = new Promise((resolve) => (this.declareLost = resolve));
    this.feed = new ChangeFeed(ctx.store, claim.name, ctx.clock, claim.written, onNotice);
  }

  start(): void {
    this.feed.start();
    void this.loop().catch((err: unknown) => this.lose(`keeping ${this.claim.kind.kind} ${this.claim.name} failed: ${(err as Error).message}`));
  }

  stop(): void {
    this.stopped = true;
    this.stop$.abort();
    this.feed.stop();
  }

  /** The newest copy of the object known (for the release that follows). */
  get latest(): RecordObject | null {
    return this.feed.current();
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.declareLost(reason);
  }

  private lostIn(obj: RecordObject | null): string | undefined {
    const { kind, name } = this.claim;
    if (!obj) return this.claim.lostIn(null);
    return this.claim.lostIn(readOf(this.ctx, kind, name, obj).state ?? null);
  }

  private async loop(): Promise<void> {
    const { clock } = this.ctx;
    const { renewEveryMs, renewDeadlineMs, retryMs } = this.timing;
    const backoff = new Backoff({ ...DEFAULT_BACKOFF, initialMs: Math.min(DEFAULT_BACKOFF.initialMs, retryMs), capMs: retryMs });
    let nextRenewAt = this.lastOkSentAt + renewEveryMs;
    const stopped = new Error('stopped');
    const lost = await watchUntilDecided(
      this.feed,
      clock,
      { deadline: Infinity, startedAt: clock.now(), signal: this.stop$.signal },
      (seen): Decision<RecordObject, string> => {
        const now = clock.now();
        const deadline = this.lastOkSentAt + renewDeadlineMs;
        const why = this.lostIn(seen);
        if (why !== undefined) return { done: why };
        if (now >= deadline)
          return { done: `no renewal of ${this.claim.kind.kind} ${this.claim.name} succeeded within the renew deadline (${Math.round(renewDeadlineMs)} ms)` };
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
            this.onNotice?.(
              `renewal of ${this.claim.kind.kind} ${this.claim.name} failed (${String((failure as Error).message ?? failure)}); retrying until the renew deadline`,
            );
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

  /** One renewal attempt bounded by the attempt timeout and the deadline: undefined when it succeeded, else why not. */
  private async renew(sentAt: number, deadline: number): Promise<unknown> {
    const boundMs = Math.min(deadline - sentAt, this.timing.attemptTimeoutMs);
    const { kind, name } = this.claim;
    const once = async () => {
      const read = readOf(this.ctx, kind, name, this.feed.current());
      const plan = this.claim.renew(read);
      if (!('write' in plan) || !('result' in plan)) throw new Error(`unexpected renewal plan for ${kind.kind} ${name}`);
      return this.ctx.store.write(read.obj!, kind.encode(plan.write));
    };
    const attempt = this.ctx.withRequestTimeout ? this.ctx.withRequestTimeout(boundMs, once) : once();
    const timeout = new AbortController();
    const outcome = await Promise.race([
      attempt.then(
        (written) => ({ written }),
        (error: unknown) => ({ error }),
      ),
      this.ctx.clock.sleep(boundMs, timeout.signal).then(() => ({ error: new Error('timed out') })),
    ]);
    timeout.abort(SLEEP_NOT_NEEDED);
    if ('written' in outcome) {
      this.feed.offer(outcome.written);
      this.lastOkSentAt = sentAt;
      this.renewals++;
      return undefined;
    }
    if (isKind(outcome.error, 'lost')) this.lose((outcome.error as Error).message);
    attempt.catch(() => {});
    return outcome.error;
  }
}
