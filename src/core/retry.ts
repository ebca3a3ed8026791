import type { Clock } from './clock.js';
import { KoncliError, isKind } from './errors.js';
import { CONFLICT_SETTLE_MS, ONE_SHOT_RETRY_MS, OUTAGE_GRACE_MS, RETRY_BACKOFF_INITIAL_MS, RETRY_BACKOFF_JITTER, RETRY_BACKOFF_MAX_MS } from './timing.js';

/**
 * koncli's one retry policy. Every loop that talks to the API server uses it; client-go's
 * `util/retry` (RetryOnConflict, OnError) and `wait.Backoff` are the model.
 *
 * - A **conflict** (409: someone wrote since we read) is not a failure: read again and decide
 *   again, at once, up to MAX_CONFLICT_RETRIES times in a row (client-go's RetryOnConflict).
 * - A **transient** failure is retried after an exponential backoff with jitter, never sooner
 *   than the server's `Retry-After`, and never past the caller's own deadline. Transient
 *   (src/kube/errors.ts decides, and says so in `details.transient`): HTTP 429 (API Priority and
 *   Fairness), 500 (e.g. an admission webhook that is down), 502, 503, 504, and a connection that
 *   was refused, reset or timed out — once the server has answered this process before (a server
 *   that never answered is a configuration problem, reported at once).
 * - Anything else is a **definite** answer and ends the loop as it is: a 403 (RBAC, a webhook's
 *   denial, a quota, a namespace being terminated), 404, 400/422, 401, a refusal decided by koncli.
 *
 * The caller's deadline (local ms on the monotonic clock):
 * - a waiter (`--wait`): its `--timeout`; without one, OUTAGE_GRACE_MS of failures in a row;
 * - a holder (`lease run`'s keeper): its renew deadline;
 * - a one-shot command: ONE_SHOT_RETRY_MS from its first transient failure;
 * - best-effort cleanup (leaving a waiter queue on the way out): none, one try.
 */

/** Read-decide-write attempts that may conflict in a row before a one-shot loop gives up. */
export const MAX_CONFLICT_RETRIES = 50;

/** Exponential backoff (client-go wait.Backoff): the n-th delay is min(capMs, initialMs × factor^n) plus up to `jitter` of it. */
export interface BackoffSpec {
  initialMs: number;
  factor: number;
  capMs: number;
  /** Fraction of the delay added at random (0.5: up to half again), so retrying clients drift apart. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffSpec = { initialMs: RETRY_BACKOFF_INITIAL_MS, factor: 2, capMs: RETRY_BACKOFF_MAX_MS, jitter: RETRY_BACKOFF_JITTER };

/** Whether `err` is worth retrying: the adapter that made it said so (see the rules above). Conflicts are not transient. */
export const isTransient = (err: unknown): err is KoncliError => err instanceof KoncliError && err.details.transient === true;

/** The server's `Retry-After` (ms) carried by `err`, if any. */
export const retryAfterOf = (err: unknown): number | undefined => {
  const ms = err instanceof KoncliError ? err.details.retryAfterMs : undefined;
  return typeof ms === 'number' && ms >= 0 ? ms : undefined;
};

/** Successive delays of one run of failures: exponential, jittered, at least the server's Retry-After. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly spec: BackoffSpec = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay (ms) before retrying after `err`, the next failure in a row. */
  next(err?: unknown): number {
    const { initialMs, factor, capMs, jitter } = this.spec;
    const base = Math.min(capMs, initialMs * factor ** Math.min(this.failures++, 30));
    return Math.max(base * (1 + jitter * this.random()), retryAfterOf(err) ?? 0);
  }

  /** A request got through: the next failure starts from the initial delay again. */
  reset(): void {
    this.failures = 0;
  }

  get inARow(): number {
    return this.failures;
  }
}

export interface RetryWindowOptions {
  /** Local ms after which nothing is retried; Infinity: OUTAGE_GRACE_MS of failures in a row. */
  deadline: number;
  backoff?: BackoffSpec;
  /** Told once per run of failures: `<error>; <verb> for up to Ns`. */
  onNotice?: (message: string) => void;
  /** How the notice says what happens meanwhile (default "retrying"). */
  verb?: string;
  random?: () => number;
}

/**
 * The state of one loop's transient failures: when to try again, or that it is time to give up.
 * Loops that wait on a watch use it directly (`retryAt`); the others through `retryOnConflict`.
 */
export class RetryWindow {
  private since: number | undefined;
  private readonly backoff: Backoff;

  constructor(
    private readonly clock: Clock,
    private readonly opts: RetryWindowOptions,
  ) {
    this.backoff = new Backoff(opts.backoff, opts.random);
  }

  /** A request got through: any run of failures is over. */
  succeeded(): void {
    this.since = undefined;
    this.backoff.reset();
  }

  /**
   * Local ms to try again at after `err`; rethrows `err` when it is definite, when `aborted`, or
   * when the deadline has come. The time returned is never past the deadline: a loop makes one last
   * attempt there (unless the server's Retry-After says that is too soon).
   */
  retryAt(err: unknown, aborted = false): number {
    if (!isTransient(err) || aborted) throw err;
    const now = this.clock.now();
    this.since ??= now;
    const deadline = Number.isFinite(this.opts.deadline) ? this.opts.deadline : this.since + OUTAGE_GRACE_MS;
    if (now >= deadline) throw this.exhausted(err, now);
    const at = now + this.backoff.next(err);
    if (at > deadline && now + (retryAfterOf(err) ?? 0) > deadline) throw this.exhausted(err, now);
    if (this.backoff.inARow === 1) {
      this.opts.onNotice?.(`${err.message}; ${this.opts.verb ?? 'retrying'} for up to ${Math.ceil((deadline - now) / 1000)}s`);
    }
    return Math.min(at, deadline);
  }

  /** The last failure, saying for how long it was retried. */
  private exhausted(err: KoncliError, now: number): KoncliError {
    const s = Math.round((now - this.since!) / 1000);
    return s < 1 ? err : new KoncliError(err.kind, `${err.message} (still failing after ${s}s of retries)`, err.details);
  }

  /**
   * For loops that wait on a watch: a lost write race is retried once the watch brings the
   * winner's state (at most CONFLICT_SETTLE_MS); anything else as `retryAt`.
   */
  retryAfter(err: unknown, aborted = false): number {
    return isKind(err, 'conflict') ? this.clock.now() + CONFLICT_SETTLE_MS : this.retryAt(err, aborted);
  }
}

export interface RetryOptions {
  clock: Clock;
  /** Local ms until which transient failures are retried (default: ONE_SHOT_RETRY_MS after the first). */
  deadline?: number;
  /** Attempts in a row that may end in `reread` failures before giving up (default MAX_CONFLICT_RETRIES). */
  maxConflicts?: number;
  /** Failures that mean "read again and decide again" (default: conflicts). */
  reread?: (err: unknown) => boolean;
  /** The error thrown after `maxConflicts` rereads in a row (default: the last conflict itself). */
  exhausted?: () => KoncliError;
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * The one read-decide-write loop (client-go `retry.RetryOnConflict` plus `retry.OnError`): runs
 * `attempt(n)` — which reads, decides and writes — until it returns; on a conflict runs it again at
 * once (it reads afresh), on a transient failure after the backoff, within the deadline. Definite
 * failures are thrown as they are; so is the last transient one when the deadline has come.
 *
 * @param attempt gets the attempt number (0 first), e.g. to use a known copy instead of reading on try 0.
 */
export async function retryOnConflict<R>(opts: RetryOptions, attempt: (n: number) => Promise<R>): Promise<R> {
  const { clock, maxConflicts = MAX_CONFLICT_RETRIES, reread = (err: unknown) => isKind(err, 'conflict') } = opts;
  let window: RetryWindow | undefined;
  let lastConflict: unknown;
  for (let n = 0, conflicts = 0; conflicts < maxConflicts; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (reread(err)) {
        conflicts++;
        lastConflict = err;
        continue;
      }
      window ??= new RetryWindow(clock, { deadline: opts.deadline ?? clock.now() + ONE_SHOT_RETRY_MS, onNotice: opts.onNotice });
      const at = window.retryAt(err, opts.signal?.aborted);
      conflicts = 0;
      await clock.sleep(at - clock.now(), opts.signal);
    }
  }
  throw opts.exhausted?.() ?? lastConflict;
}
