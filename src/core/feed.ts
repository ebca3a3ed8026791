import type { Clock } from './clock.js';
import { isKind } from './errors.js';
import { Backoff } from './retry.js';
import { SLEEP_NOT_NEEDED } from './timer.js';
import { isAtLeastAsNew, type Versioned, type Watchable } from './store.js';
import { POLL_MAX_MS, POLL_MIN_MS, WATCH_QUICK_CLOSE_MS as QUICK_CLOSE_MS, WATCH_RETRY_MAX_MS, WATCH_RETRY_MIN_MS } from './timing.js';

/** Re-watching after a failure: the one retry policy's backoff (jitter, Retry-After), from 2 × WATCH_RETRY_MIN_MS up to WATCH_RETRY_MAX_MS. */
const REWATCH_BACKOFF = { initialMs: 2 * WATCH_RETRY_MIN_MS, factor: 2, capMs: WATCH_RETRY_MAX_MS, jitter: 0.5 };

/**
 * The latest known state of one object, kept current by a watch. When the watch drops it
 * re-reads the object and watches again (with backoff); when watching is forbidden it falls
 * back to polling with backoff and says so once. Waiters call `waitForChange` instead of polling.
 */
export class ChangeFeed<T extends Versioned> {
  private latest: T | null;
  private wake: (() => void) | undefined;
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  private readonly rewatch = new Backoff(REWATCH_BACKOFF);
  private polling = false;
  private generation = 0;
  private openedAt = 0;
  /** A change arrived that no one has read yet through `current()`. */
  private unread = false;

  constructor(
    private readonly store: Watchable<T>,
    private readonly name: string,
    private readonly clock: Clock,
    initial: T | null,
    private readonly notice: (message: string) => void = () => {},
  ) {
    this.latest = initial;
  }

  current(): T | null {
    this.unread = false;
    return this.latest;
  }

  /** Offer a state we obtained ourselves (e.g. the response to our own write). */
  offer(obj: T | null): void {
    if (obj && this.latest && !isAtLeastAsNew(obj.version, this.latest.version)) return;
    this.latest = obj;
    this.signal();
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.signal();
  }

  /** Resolves when the object changes, at `untilLocal` (monotonic ms, Clock.now), or when `signal` aborts. */
  async waitForChange(untilLocal: number, signal?: AbortSignal): Promise<void> {
    if (this.stopped || this.unread || signal?.aborted) return;
    const timeout = new AbortController();
    const changed = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    const onAbort = () => timeout.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([changed, this.clock.sleep(untilLocal - this.clock.now(), timeout.signal)]);
    } finally {
      timeout.abort(SLEEP_NOT_NEEDED);
      signal?.removeEventListener('abort', onAbort);
      this.wake = undefined;
    }
  }

  private signal(): void {
    this.unread = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.openedAt = this.clock.now();
    if (this.polling) return this.poll(generation);
    try {
      this.stopWatch = await this.store.watch(this.name, this.latest?.version, {
        onChange: (obj) => {
          this.rewatch.reset();
          this.offer(obj);
        },
        onClose: (err) => {
          if (generation !== this.generation) return;
          void this.reconnect(err);
        },
      });
      if (this.stopped) this.stopWatch();
    } catch (err) {
      await this.reconnect(err);
    }
  }

  private async reconnect(err?: unknown): Promise<void> {
    this.stopWatch = undefined;
    if (this.stopped) return;
    if (isKind(err, 'forbidden') && !this.polling) {
      this.polling = true;
      this.notice(`watch on ${this.name} is forbidden (${(err as Error).message}); polling instead, with backoff`);
    }
    // A clean server-side close of a watch that lived a while: resume from where we were.
    if (err === undefined && this.clock.now() - this.openedAt > QUICK_CLOSE_MS) return this.connect();
    await this.clock.sleep(this.rewatch.next(err));
    await this.refresh(); // the watch may have missed changes (or its version expired): re-read
    await this.connect();
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const obj = await this.store.get(this.name);
      this.latest = obj; // a fresh read is authoritative, even if its version looks older (re-created)
      this.signal();
    } catch {
      // transient: the next connect or poll retries
    }
  }

  private async poll(generation: number): Promise<void> {
    let delay = POLL_MIN_MS;
    while (!this.stopped && generation === this.generation) {
      await this.clock.sleep(delay);
      const before = this.latest?.version;
      await this.refresh();
      delay = this.latest?.version === before ? Math.min(POLL_MAX_MS, delay * 2) : POLL_MIN_MS;
    }
  }
}
