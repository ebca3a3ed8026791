import type { Clock } from './clock.js';
import { KoncliError, isKind } from './errors.js';
import { Backoff } from './retry.js';
import { SLEEP_NOT_NEEDED } from './timer.js';
import { isAtLeastAsNew, type Versioned, type Watchable } from './store.js';
import {
  POLL_MAX_MS,
  POLL_MIN_MS,
  WATCH_CHECK_TIMEOUT_MS,
  WATCH_QUICK_CLOSE_MS as QUICK_CLOSE_MS,
  WATCH_RETRY_MAX_MS,
  WATCH_RETRY_MIN_MS,
  WATCH_SILENCE_CHECK_MS,
} from './timing.js';

/** Re-watching after a failure: the one retry policy's backoff (jitter, Retry-After), from 2 × WATCH_RETRY_MIN_MS up to WATCH_RETRY_MAX_MS. */
const REWATCH_BACKOFF = { initialMs: 2 * WATCH_RETRY_MIN_MS, factor: 2, capMs: WATCH_RETRY_MAX_MS, jitter: 0.5 };

/** A read that did not answer within its bound. */
const silent = (what: string) => new KoncliError('unreachable', `${what} did not answer within ${WATCH_CHECK_TIMEOUT_MS / 1000}s`, { transient: true });
const NO_ANSWER = Symbol('no answer');

/**
 * The latest known state of one object, kept current by a watch. When the watch drops it
 * re-reads the object and watches again (with backoff); when watching is forbidden it falls
 * back to polling with backoff and says so once. Waiters call `waitForChange` instead of polling.
 *
 * A watch whose connection goes silent (no RST, no event) would never close: after
 * WATCH_SILENCE_CHECK_MS without anything from it (an event, or the store's `onProgress`: a BOOKMARK,
 * or anything else its connection received), the feed reads the object (a quorum GET bounded by
 * WATCH_CHECK_TIMEOUT_MS). A read that does not answer, or that shows a version the watch never
 * delivered, ends the watch and opens a new one from a fresh read, on a fresh connection.
 */
export class ChangeFeed<T extends Versioned> {
  private latest: T | null;
  private wake: (() => void) | undefined;
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  private readonly life = new AbortController();
  private readonly rewatch = new Backoff(REWATCH_BACKOFF);
  private polling = false;
  /** Bumped whenever a watch is opened or given up: handlers and checks of an older one do nothing. */
  private generation = 0;
  private openedAt = 0;
  /** When the current watch last delivered something (monotonic ms). */
  private heardAt = 0;
  /** A change arrived that no one has read yet through `current()`. */
  private unread = false;
  private watchOpened = false;
  constructor(
    private readonly store: Watchable<T>,
    private readonly name: string,
    private readonly clock: Clock,
    initial: T | null,
    private readonly notice: (message: string) => void = () => {},
    /** Told of every state the watch delivers (not only the latest, which is all `current()` keeps). */
    private readonly onState?: (obj: T | null) => void,
    /** Whether the watch opening wakes `waitForChange` (see `opened`). */
    private readonly wakeWhenOpened = false,
  ) {
    this.latest = initial;
  }

  /**
   * Whether the first watch is open — the server takes events for it from then on — or its first
   * try failed, or the feed polls or stopped (a waiter registers in a queue once it can see the
   * release it waits for). Turning true wakes `waitForChange` when the feed was made with `wakeWhenOpened`.
   */
  get opened(): boolean {
    return this.watchOpened;
  }

  private markOpened(): void {
    if (this.watchOpened) return;
    this.watchOpened = true;
    if (!this.wakeWhenOpened) return;
    const wake = this.wake; // a waiter waiting for this (no change to read: `unread` stays as it is)
    this.wake = undefined;
    wake?.();
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
    this.generation++;
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.life.abort(SLEEP_NOT_NEEDED);
    this.markOpened();
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
    this.openedAt = this.heardAt = this.clock.now();
    if (this.polling) {
      this.markOpened();
      return this.poll(generation);
    }
    void this.checkWhileSilent(generation);
    try {
      const stop = await this.store.watch(this.name, this.latest?.version, {
        uid: this.latest?.uid,
        onChange: (obj) => {
          if (generation !== this.generation) return;
          this.heardAt = this.clock.now();
          this.rewatch.reset();
          this.onState?.(obj);
          this.offer(obj);
        },
        onProgress: () => {
          if (generation === this.generation) this.heardAt = this.clock.now();
        },
        onClose: (err) => this.dropped(generation, err),
      });
      if (generation === this.generation) this.stopWatch = stop;
      else stop(); // stopped, or given up as silent, while it was being opened
    } catch (err) {
      this.dropped(generation, err);
    }
    this.markOpened();
  }

  /** Watch `generation` ended (`err`: how): re-open it, unless it was already given up. */
  private dropped(generation: number, err?: unknown): void {
    if (generation !== this.generation) return;
    this.generation++;
    void this.reconnect(err);
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
    await this.clock.sleep(this.rewatch.next(err), this.life.signal);
    await this.refresh(); // the watch may have missed changes (or its version expired): re-read
    await this.connect();
  }

  /**
   * While watch `generation` is open: each time it has been silent for WATCH_SILENCE_CHECK_MS, read
   * the object. No answer within the bound, or a version the watch never delivered: give the watch
   * up (its connection is dropped by the bounded read) and open another from a fresh read.
   */
  private async checkWhileSilent(generation: number): Promise<void> {
    while (!this.stopped && generation === this.generation) {
      const quietFor = this.clock.now() - this.heardAt;
      if (quietFor < WATCH_SILENCE_CHECK_MS) {
        await this.clock.sleep(WATCH_SILENCE_CHECK_MS - quietFor, this.life.signal);
        continue;
      }
      const known = this.latest;
      const read = await this.boundedGet().catch((err: unknown) => err as Error);
      if (this.stopped || generation !== this.generation) return;
      if (read instanceof Error) return this.giveUp(generation, read);
      if (!this.missed(known, read)) {
        this.heardAt = this.clock.now(); // the object is as the watch says: quiet, not dead
        continue;
      }
      this.offer(read); // seen by the read, never by the watch
      return this.giveUp(generation);
    }
  }

  /** Whether a read shows a state the watch did not deliver (`known` is what we had before the read). */
  private missed(known: T | null, read: T | null): boolean {
    if (read === null || known === null) return read !== known;
    return read.uid !== known.uid || (read.version !== known.version && !isAtLeastAsNew(known.version, read.version));
  }

  /** Ends watch `generation` as silent and re-opens it: at once from the check's read, or after a backoff and a re-read when the read failed. */
  private giveUp(generation: number, failure?: Error): void {
    if (generation !== this.generation) return;
    this.stopWatch?.();
    this.stopWatch = undefined;
    if (!failure) return void this.connect();
    // A refused read (say 403) says nothing about the watch: only a refused watch switches to polling.
    this.dropped(generation, isKind(failure, 'forbidden') ? silent(`watch on ${this.name}`) : failure);
  }

  /** One GET of the object, bounded by WATCH_CHECK_TIMEOUT_MS (by the store's request timeout too, when it has one). */
  private async boundedGet(): Promise<T | null> {
    const get = () => this.store.get(this.name);
    const request = this.store.withRequestTimeout ? this.store.withRequestTimeout(WATCH_CHECK_TIMEOUT_MS, get) : get();
    const bound = new AbortController();
    try {
      const answer = await Promise.race([request, this.clock.sleep(WATCH_CHECK_TIMEOUT_MS, bound.signal).then(() => NO_ANSWER)]);
      if (answer === NO_ANSWER) throw silent(`reading ${this.name}`);
      return answer as T | null;
    } finally {
      bound.abort(SLEEP_NOT_NEEDED);
      request.catch(() => {}); // a read given up on may still fail later
    }
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const obj = await this.boundedGet();
      if (this.stopped) return;
      this.latest = obj; // a fresh read is authoritative, even if its version looks older (re-created)
      this.signal();
    } catch {
      // transient: the next connect or poll retries
    }
  }

  private async poll(generation: number): Promise<void> {
    let delay = POLL_MIN_MS;
    while (!this.stopped && generation === this.generation) {
      await this.clock.sleep(delay, this.life.signal);
      const before = this.latest?.version;
      await this.refresh();
      delay = this.latest?.version === before ? Math.min(POLL_MAX_MS, delay * 2) : POLL_MIN_MS;
    }
  }
}
