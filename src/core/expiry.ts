import type { Clock } from './clock.js';
import type { ServerClock } from './server-clock.js';
import { CLAIM_ANSWER_FRACTION, DEFAULT_MAX_CLOCK_SKEW_MS } from './timing.js';

/** One sighting of a claim (a Lease's holder, a semaphore slot with a TTL, an annotation lock). */
export interface ClaimSighting {
  /** Which claim (lease, semaphore holder, lock). */
  key: string;
  /**
   * The whole claim as stored. Any change restarts the observed-time rule, as client-go compares
   * the whole LeaderElectionRecord: a renewal that bumps a counter or moves an expiry is a renewal.
   */
  fingerprint: string;
  /** How long the claim lasts after its last write (ms). */
  durationMs: number;
  /** Upper bound (server clock, ms since the epoch) of the claim's last write, from managedFields. */
  serverWrittenAtMost?: number;
  /** Why there is no `serverWrittenAtMost`, for messages, when it is not that the server recorded none (a semaphore slot has no stamp of its own). */
  noServerStamp?: string;
  /**
   * When the claim's own writer says it ends, on the writer's clock (ms since the epoch):
   * renewTime + leaseDurationSeconds, createdAt + ttl, a konductor Lease's status.expires.
   */
  writerExpiresAt?: number;
}

/** Which rule bounds the deadline (docs/clock.md). */
export type ExpiryBasis = 'observed' | 'server' | 'writer';

export interface Expiry {
  /** Monotonic ms (Clock.now) after which the claim has certainly run out. */
  deadline: number;
  basis: ExpiryBasis;
  /** Monotonic ms at which koncli first saw the claim in its current form. */
  seenAt: number;
  /** For people: why the claim is judged to last until `deadline`. */
  why: string;
}

export interface ExpiryOptions {
  /** --max-clock-skew: how far apart two machines' clocks may be (ms). */
  maxClockSkewMs?: number;
}

/**
 * Decides when a claim runs out, as a monotonic deadline on this machine. Never early, under the
 * assumptions docs/clock.md states. Three bounds:
 *
 * 1. Observed (client-go's rule): a claim first seen in its current form at monotonic T ends no
 *    later than T + duration. Needs no other clock. Always applies.
 * 2. Server stamp: the API server stamped the claim's last write at S (managedFields); with the
 *    server's clock related to our monotonic clock by `Date` headers (ServerClock), it ends by
 *    S + duration. Trusts that the server answering (its `Date`) and the server that stamped agree.
 * 3. Writer stamp: the writer says the claim ends at W (its renewTime + duration, its expires).
 *    It ends by W + the allowed clock skew on *both* this machine's wall clock and the server's
 *    clock (`Date`), so neither a stepped local clock nor a skewed `Date` alone can make it early.
 *
 * The claim ends at min(1, max(2, 3)): a bound earlier than what we observed needs two clocks to
 * agree. When the server stamped nothing (no managedFields: an object created with only a name,
 * a Lease restored from a backup), min(1, 3). When the writer left no timestamp, rule 1 alone.
 */
export class ExpiryTracker {
  private readonly firstSeen = new Map<string, { fingerprint: string; at: number }>();
  readonly maxClockSkewMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly serverClock: ServerClock,
    opts: ExpiryOptions = {},
  ) {
    this.maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  }

  /** The claim's expiry; records the sighting (a changed fingerprint restarts rule 1). */
  judge(claim: ClaimSighting): Expiry {
    const now = this.clock.now();
    let seen = this.firstSeen.get(claim.key);
    if (!seen || seen.fingerprint !== claim.fingerprint) {
      seen = { fingerprint: claim.fingerprint, at: now };
      this.firstSeen.set(claim.key, seen);
    }
    const seenAt = seen.at;
    const observed = seenAt + claim.durationMs;
    const server = claim.serverWrittenAtMost === undefined ? undefined : this.serverClock.localDeadlineOf(claim.serverWrittenAtMost + claim.durationMs);
    const writer = this.writerDeadline(claim.writerExpiresAt, now);
    // Rule 2 never acts alone (its Date may come from another clock); rule 3 may, when there is no rule 2.
    const early = writer === undefined ? undefined : server === undefined ? writer : Math.max(server, writer);
    const basis: ExpiryBasis = early === undefined || observed <= early ? 'observed' : server !== undefined && server >= writer! ? 'server' : 'writer';
    const explain = () => this.explain(claim, basis, now - seenAt, server, writer);
    return {
      deadline: basis === 'observed' ? observed : early!,
      basis,
      seenAt,
      get why() {
        return explain(); // built only when a message needs it
      },
    };
  }

  /** Why a claim lasts as judged, for people. */
  private explain(claim: ClaimSighting, basis: ExpiryBasis, seenForMs: number, server: number | undefined, writer: number | undefined): string {
    const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;
    const noStamp = `; ${claim.noServerStamp ?? 'the API server recorded no write time (no managedFields)'}`;
    const writerWhy = () =>
      `its writer's own expiry ${new Date(claim.writerExpiresAt!).toISOString()} plus the ${secs(this.maxClockSkewMs)} allowed clock skew (--max-clock-skew)`;
    if (basis === 'server') {
      return `the API server stamped its last write ${new Date(claim.serverWrittenAtMost!).toISOString()} (at most), its writer's own timestamp agrees, and it lasts ${secs(claim.durationMs)}`;
    }
    if (basis === 'writer') return writerWhy() + (server === undefined ? noStamp : " (later than the server's write time says)");
    const observed = `first seen in this form ${secs(seenForMs)} ago, and it lasts ${secs(claim.durationMs)} after its last change (client-go's observed-time rule)`;
    if (writer === undefined) return observed + (claim.writerExpiresAt === undefined ? '; its writer left no timestamp to corroborate an earlier end' : '');
    return observed + (server === undefined ? `${noStamp}, and ${writerWhy()} is later` : '');
  }

  /** Rule 3: W + skew must have passed on the server's clock and on our wall clock; monotonic ms. */
  private writerDeadline(writerExpiresAt: number | undefined, now: number): number | undefined {
    if (writerExpiresAt === undefined || !Number.isFinite(writerExpiresAt)) return undefined;
    const end = writerExpiresAt + this.maxClockSkewMs;
    const byServer = this.serverClock.localDeadlineOf(end);
    if (byServer === undefined) return undefined;
    const byWall = now + (end - this.clock.wallNow());
    return Math.max(byServer, byWall);
  }

  /** The deadline only (monotonic ms); see `judge`. */
  deadline(claim: ClaimSighting): number {
    return this.judge(claim).deadline;
  }

  forget(key: string): void {
    this.firstSeen.delete(key);
  }
}

/**
 * " until 2026-…Z (in 12s by this machine's clock) unless renewed": a busy message's account of when
 * a claim can be taken, '' when it lasts until released. `now` and `wallNow` are this machine's
 * monotonic and wall readings. The rule behind the deadline (`Expiry.why`) is not in it: busy
 * errors say who holds and until when first, and carry the rule as `details.rule` (--json, -v).
 */
export function takeableText(deadline: number | undefined, now: number, wallNow: number): string {
  if (deadline === undefined || !Number.isFinite(deadline)) return '';
  const at = new Date(wallNow + (deadline - now)).toISOString();
  const left = Math.max(0, Math.ceil((deadline - now) / 1000));
  return ` until ${at} (in ${left}s by this machine's clock) unless renewed`;
}

/** "h1 (reason) until … unless renewed", or "h1 [until …], h2 [until …]" for several: who holds and until when, for busy messages. */
export function holdersUntilText(holders: { holder: string; reason?: string; deadline?: number }[], now: number, wallNow: number): string {
  return holders
    .map((h) => {
      const until = takeableText(h.deadline, now, wallNow);
      return `${h.holder}${h.reason ? ` (${h.reason})` : ''}${holders.length === 1 || !until ? until : ` [${until.trim()}]`}`;
    })
    .join(', ');
}

/** A busy error's `details.rule`: why each claim is judged to last as long as it does ("h1: …; h2: …" for several), null when none expires. */
export function ruleOf(claims: { holder: string; expiry?: Expiry }[]): string | null {
  const judged = claims.filter((c) => c.expiry);
  if (judged.length === 0) return null;
  return judged.length === 1 ? judged[0].expiry!.why : judged.map((c) => `${c.holder}: ${c.expiry!.why}`).join('; ');
}

/**
 * Whether the answer to a claiming write came too late to count (docs/clock.md, "A claim counts from
 * when its write was sent"): after `sentAt + durationMs × CLAIM_ANSWER_FRACTION`. Returns why, for the
 * message, or undefined when the claim stands. All times monotonic ms.
 */
export function lateAnswer(sentAt: number, durationMs: number, answeredAt: number): string | undefined {
  if (!(durationMs > 0)) return undefined; // a claim of no duration (a konductor spec.ttl of 0s) has no deadline to miss
  const limit = durationMs * CLAIM_ANSWER_FRACTION;
  const took = answeredAt - sentAt;
  if (took <= limit) return undefined;
  const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;
  return `the API server answered the claiming write ${secs(took)} after it was sent, later than ${Math.round(CLAIM_ANSWER_FRACTION * 100)}% of its ${secs(durationMs)} duration (${secs(limit)}); a claim counts from when its write was sent, so it is not counted`;
}
