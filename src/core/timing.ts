import { usageError } from './errors.js';

/**
 * koncli's timing rules, in one place. Every figure is in milliseconds unless its name says
 * Seconds; each says where it comes from. `checkTimingRelations()` (run by the unit tests and by
 * `holderTiming` for the figures a flag derives) rejects settings whose relations are wrong, the way
 * client-go's NewLeaderElector refuses LeaseDuration <= RenewDeadline or
 * RenewDeadline <= JitterFactor × RetryPeriod.
 */

// ---- Lease durations (defaults of new claims; a claim's duration always comes from its acquirer)

/** `lease acquire`'s --ttl when none is given and the lease prescribes none: 5 minutes. */
export const DEFAULT_LEASE_SECONDS = 300;
/** `lease run`'s --ttl default: client-go leader election's LeaseDuration (15 s), also klock's. */
export const RUN_DEFAULT_TTL_SECONDS = 15;
/**
 * How long a Lease whose holder left out `leaseDurationSeconds` is judged to last (docs/clock.md).
 * client-go reads the missing field as 0 (LeaseSpecToLeaderElectionRecord) and so takes such a
 * Lease at first sight; koncli reads it as its own default claim, 5 minutes, by every rule.
 */
export const UNSET_LEASE_DURATION_SECONDS = DEFAULT_LEASE_SECONDS;

// ---- A holder (ClaimKeeper), as fractions of its TTL: client-go's 15 s / 10 s / 2 s proportions

/** Renew this long after the last successful renewal was sent: a third of the TTL. */
export const RENEW_PERIOD_FRACTION = 1 / 3;
/** Give up when no renewal sent within this long succeeded: two thirds of the TTL (client-go RenewDeadline 10 s of 15 s). */
export const RENEW_DEADLINE_FRACTION = 2 / 3;
/**
 * A claim counts from when its write was sent: an answer that arrives later than this fraction of
 * the claim's duration after the send is no claim (the renew deadline: a holder would already have
 * given up). One-shot acquires give it back; `lease run` never starts its command.
 */
export const CLAIM_ANSWER_FRACTION = RENEW_DEADLINE_FRACTION;
/** After a failed renewal attempt, retry after a tenth of the TTL, at most RENEW_RETRY_MAX_MS (client-go RetryPeriod 2 s). */
export const RENEW_RETRY_FRACTION = 1 / 10;
export const RENEW_RETRY_MAX_MS = 1000;
/**
 * Each renewal request may take at most a third of the renew window (deadline − period), so a
 * request lost on the way (a dropped packet, a dead connection) leaves room for another try
 * before the deadline. With the 10 s request timeout and a 15 s TTL, one hung request used to
 * consume the whole 5 s window.
 */
export const RENEW_ATTEMPT_FRACTION_OF_WINDOW = 1 / 3;
/** `lease run --kill-after` default: a quarter of the TTL (it fits the third between renew deadline and TTL). */
export const KILL_AFTER_FRACTION = 1 / 4;
/** client-go's JitterFactor: RenewDeadline must exceed JITTER_FACTOR × RetryPeriod. */
export const JITTER_FACTOR = 1.2;

// ---- Waiters (each renews a candidate of its own: core/lease/candidates.ts; docs/lease.md, "Waiting")

/** How often a waiter proves it is alive. */
export const HEARTBEAT_MS = 15_000;
/** Heartbeat periods are random in [1 − HEARTBEAT_JITTER, 1] × HEARTBEAT_MS, so waiters drift apart. */
export const HEARTBEAT_JITTER = 0.25;
/** A waiter whose beat has not changed for this long (observed, monotonic) is stale: three missed beats. */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;
/**
 * When the lease frees, a waiter that last saw live waiters ahead of it leaves the lease to them this
 * long before it reads the candidates itself (core/lease/seat.ts): enough for the first one's claim.
 */
export const HANDOVER_GRACE_MS = 1000;
/** After the n-th heartbeat in a row lost to another writer: random pause up to base × 2^n, capped. */
export const CONFLICT_BACKOFF_BASE_MS = 50;
export const CONFLICT_BACKOFF_MAX_MS = 2000;
/** After a lost write race, how long a waiting loop waits for its watch to bring the winner's state. */
export const CONFLICT_SETTLE_MS = 1000;
/** How long a waiter rides out an unreachable API server (failures in a row) before giving up. */
export const OUTAGE_GRACE_MS = 60_000;
/**
 * How long a one-shot command (no --wait) keeps retrying transient failures, from the first one:
 * long enough for an API-server restart, an admission webhook's pod being replaced, or two of API
 * Priority and Fairness's `Retry-After`s (kube-apiserver 1.36 answered `Retry-After: 8` here);
 * short enough that a script notices a real outage. client-go retries one request up to 10 times
 * when the server sends Retry-After (rest.Request maxRetries). See core/retry.ts.
 */
export const ONE_SHOT_RETRY_MS = 30_000;
/**
 * Backoff between retries of a transient failure (core/retry.ts): RETRY_BACKOFF_INITIAL_MS doubling
 * up to RETRY_BACKOFF_MAX_MS, each plus up to RETRY_BACKOFF_JITTER of itself at random, never sooner
 * than the server's Retry-After. A holder caps it at its renewal retry period.
 */
export const RETRY_BACKOFF_INITIAL_MS = 250;
export const RETRY_BACKOFF_MAX_MS = 4000;
export const RETRY_BACKOFF_JITTER = 0.5;

// ---- Watches (ChangeFeed, watchObject)

/** Reconnect backoff of a dropped watch: 100 ms × 2^n up to 5 s. */
export const WATCH_RETRY_MIN_MS = 100;
export const WATCH_RETRY_MAX_MS = 5000;
/** A watch closed cleanly by the server after living longer than this resumes at once. */
export const WATCH_QUICK_CLOSE_MS = 1000;
/** Polling (when watching is forbidden): from 500 ms, doubling up to 5 s while nothing changes. */
export const POLL_MIN_MS = 500;
export const POLL_MAX_MS = 5000;
/**
 * A watch whose connection received nothing (no event, no BOOKMARK, and over HTTP/2 no answer to
 * any other request of the process, which shares that connection) for this long is checked with a
 * quorum read of its object (a GET, served from etcd): a TCP connection that went silent (a frozen
 * NAT entry, a peer that vanished without a RST) closes nothing, and client-node's own idle abort
 * comes only after WATCH_CLIENT_IDLE_MS. Longer than a waiter's heartbeat period (HEARTBEAT_MS), so
 * over HTTP/2 a waiter's own heartbeat keeps the check from firing; each check costs one GET.
 */
export const WATCH_SILENCE_CHECK_MS = 19_000;
/**
 * Bound on that read (and on the re-read before a watch is re-opened): a request not answered within
 * it drops the pooled connections, and the watch is re-opened on a fresh one.
 */
export const WATCH_CHECK_TIMEOUT_MS = 5_000;
/**
 * The bound documented to users (docs/lease.md): a waiter of any kind notices a connection that
 * stopped carrying bytes, and is watching again on a fresh one, within this long. It covers the
 * silence, the check's read, the first re-watch backoff and the re-read.
 */
export const DEAD_CONNECTION_NOTICED_MS = 30_000;
/**
 * At --timeout, an answer still outstanding (a write sent just before it) is awaited at most this
 * long; then the waiter gives up as busy (exit 3) without it.
 */
export const WAIT_DEADLINE_GRACE_MS = 2_000;
/** A waiter's cleanup on its way out (leaving the waiter queue): each request, and the whole, at most this long. */
export const WAIT_CLEANUP_MS = 2_000;
/** The server ends each watch after this long (timeoutSeconds); the feed resumes from the last version. */
export const WATCH_SERVER_TIMEOUT_SECONDS = 240;
/** client-node aborts a watch after this long without data; it must exceed WATCH_SERVER_TIMEOUT_SECONDS. */
export const WATCH_CLIENT_IDLE_MS = 5 * 60_000;

// ---- Requests

/** --request-timeout default: kubectl has none; client-go's leader election bounds each try by its RenewDeadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** `crd install --timeout` default: how long to wait for the CRD to become Established. */
export const CRD_ESTABLISHED_TIMEOUT_SECONDS = 60;

// ---- People

/** How often a terminal's waiting line ("held by …, expires within …") is redrawn. */
export const PROGRESS_REFRESH_MS = 1000;

// ---- Clocks (docs/clock.md)

/** HTTP `Date` headers have whole-second precision (RFC 9110). */
export const DATE_HEADER_PRECISION_MS = 1000;
/** `managedFields[].time` has whole-second precision (metav1.Time). */
export const MANAGED_FIELDS_PRECISION_MS = 1000;
/**
 * --max-clock-skew default: how far apart the clocks of two machines (a claim's writer, this
 * machine, the API server) may be. Only used when koncli compares a writer's own timestamp with
 * another clock (docs/clock.md, rules 3 and 4); NTP keeps clusters well within a second.
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5000;

/** What a holder (ClaimKeeper) does, derived from its TTL. */
export interface HolderTiming {
  ttlMs: number;
  /** Renew this long after the last successful renewal was sent. */
  renewEveryMs: number;
  /** Lost when no renewal sent within this long has succeeded; shorter than the TTL. */
  renewDeadlineMs: number;
  /** After a failed renewal, try again this soon. */
  retryMs: number;
  /** Bound on one renewal request (≤ a third of the renew window, ≤ the request timeout). */
  attemptTimeoutMs: number;
  /** Default --kill-after. */
  killAfterMs: number;
}

/**
 * The holder's timing for a TTL (whole seconds), checked as client-go's NewLeaderElector checks
 * its own. Throws a usage error when the relations fail.
 */
export function holderTiming(ttlSeconds: number, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): HolderTiming {
  const ttlMs = ttlSeconds * 1000;
  const renewEveryMs = ttlMs * RENEW_PERIOD_FRACTION;
  const renewDeadlineMs = ttlMs * RENEW_DEADLINE_FRACTION;
  const timing: HolderTiming = {
    ttlMs,
    renewEveryMs,
    renewDeadlineMs,
    retryMs: Math.min(RENEW_RETRY_MAX_MS, ttlMs * RENEW_RETRY_FRACTION),
    attemptTimeoutMs: Math.min(requestTimeoutMs, (renewDeadlineMs - renewEveryMs) * RENEW_ATTEMPT_FRACTION_OF_WINDOW),
    killAfterMs: ttlMs * KILL_AFTER_FRACTION,
  };
  const problem = holderTimingProblem(timing);
  if (problem) throw usageError(`a TTL of ${ttlSeconds}s gives a holder timing that cannot work: ${problem}`);
  return timing;
}

/** The first broken relation of a holder timing, or undefined (client-go's NewLeaderElector checks, plus ours). */
export function holderTimingProblem(t: HolderTiming): string | undefined {
  if (!(t.renewEveryMs > 0 && t.retryMs > 0 && t.attemptTimeoutMs > 0)) return 'every period must be positive';
  if (!(t.ttlMs > t.renewDeadlineMs)) return 'the lease duration must exceed the renew deadline';
  if (!(t.renewDeadlineMs > t.renewEveryMs)) return 'the renew deadline must exceed the renew period';
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryMs)) return `the renew deadline must exceed ${JITTER_FACTOR} × the retry period`;
  const window = t.renewDeadlineMs - t.renewEveryMs;
  if (!(2 * t.attemptTimeoutMs + t.retryMs <= window)) return 'a renewal attempt must leave room for another try inside the renew deadline';
  if (!(t.killAfterMs <= t.ttlMs - t.renewDeadlineMs)) return 'the default kill delay must fit between the renew deadline and the TTL';
  return undefined;
}

/** The relations between the fixed constants above; throws naming the first one broken. */
export function checkTimingRelations(): void {
  const fail = (what: string) => {
    throw new Error(`koncli timing constants: ${what}`);
  };
  if (!(STALE_AFTER_MS > HEARTBEAT_MS + CONFLICT_BACKOFF_MAX_MS))
    fail('a waiter must get at least one heartbeat (plus a conflict backoff) in before it is judged stale');
  if (!(HEARTBEAT_JITTER > 0 && HEARTBEAT_JITTER < 1)) fail('the heartbeat jitter is a fraction');
  if (!(WATCH_CLIENT_IDLE_MS > WATCH_SERVER_TIMEOUT_SECONDS * 1000)) fail("the client must outwait the server's watch timeout");
  if (!(WATCH_SILENCE_CHECK_MS > HEARTBEAT_MS)) fail("a waiter's heartbeat must come before its watch's silence check");
  if (!(WATCH_RETRY_MIN_MS < WATCH_RETRY_MAX_MS && POLL_MIN_MS < POLL_MAX_MS)) fail('backoffs must grow');
  if (!(WATCH_SILENCE_CHECK_MS + 2 * WATCH_CHECK_TIMEOUT_MS + 3 * WATCH_RETRY_MIN_MS <= DEAD_CONNECTION_NOTICED_MS)) {
    fail('a silent connection must be noticed (check, its read, a backoff, the re-read) within the documented bound');
  }
  if (!(RETRY_BACKOFF_INITIAL_MS < RETRY_BACKOFF_MAX_MS && RETRY_BACKOFF_MAX_MS * (1 + RETRY_BACKOFF_JITTER) * 3 <= ONE_SHOT_RETRY_MS)) {
    fail('the retry backoff must grow, and a one-shot budget must hold several tries at its longest');
  }
  if (!(RETRY_BACKOFF_MAX_MS * (1 + RETRY_BACKOFF_JITTER) < OUTAGE_GRACE_MS)) fail('a waiter must retry more than once within the outage grace');
  const problem = holderTimingProblem(holderTiming(RUN_DEFAULT_TTL_SECONDS));
  if (problem) fail(`lease run's default TTL: ${problem}`);
}

// ---- The watchdog of `lease run` (src/supervise/watchdog.ts), inside the gap between renew deadline and TTL

/** The watchdog signals this long after koncli's own renew deadline, so a koncli that is alive stops the command itself: an eighth of the gap, at most 500 ms. */
export const WATCHDOG_SLACK_FRACTION = 1 / 8;
export const WATCHDOG_SLACK_MAX_MS = 500;
/** The watchdog's SIGKILL lands this long before the lease could expire (time for the kill and the last scans): a quarter of the gap, at most 1 s. */
export const WATCHDOG_MARGIN_FRACTION = 1 / 4;
export const WATCHDOG_MARGIN_MAX_MS = 1000;

/**
 * When the watchdog acts, relative to koncli's renew deadline (ms): it signals `slackMs` after it
 * and sends SIGKILL `graceMs` after that — `--kill-after`, shortened where needed so the SIGKILL
 * lands WATCHDOG_MARGIN before the TTL could expire. With a 15 s TTL: signal at 10.5 s, SIGKILL by
 * 14 s; with 6 s: 4.25 s and 5.5 s.
 */
export function watchdogTiming(t: HolderTiming, killAfterMs: number): { slackMs: number; graceMs: number } {
  const gap = t.ttlMs - t.renewDeadlineMs;
  const slackMs = Math.min(WATCHDOG_SLACK_MAX_MS, gap * WATCHDOG_SLACK_FRACTION);
  const marginMs = Math.min(WATCHDOG_MARGIN_MAX_MS, gap * WATCHDOG_MARGIN_FRACTION);
  return { slackMs, graceMs: Math.max(0, Math.min(killAfterMs, gap - slackMs - marginMs)) };
}
