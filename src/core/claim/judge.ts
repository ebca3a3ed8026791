import { holdersUntilText, ruleOf, type Expiry } from '../expiry.js';
import type { Claim, ClaimContext } from './model.js';

/** One claim as judged on this machine's clock (docs/clock.md). */
export interface ClaimView {
  claim: Claim;
  /** The claim's TTL has certainly run out (it may be taken over). */
  expired: boolean;
  /** Monotonic ms (Clock.now) after which it has run out; undefined when it has no TTL. */
  deadline?: number;
  expiry?: Expiry;
}

/**
 * Judges every claim with the ExpiryTracker: observed time (client-go's rule), or earlier when the
 * server's time of the record's last write (`serverWrittenAtMost`, managedFields: RecordObject's
 * `writtenAtMost`) and the writer's `expiresAt` plus --max-clock-skew agree that it ended, as a
 * Lease is judged; a changed claim (a renewal) restarts the observed rule.
 */
export function judgeClaims(ctx: Pick<ClaimContext, 'tracker'>, key: string, claims: Claim[], now: number, serverWrittenAtMost?: number): ClaimView[] {
  return claims.map((claim) => {
    if (claim.ttlSeconds === undefined) return { claim, expired: false };
    const expiry = ctx.tracker.judge({
      key: `${key}/${claim.holder}`,
      fingerprint: JSON.stringify(claim),
      durationMs: claim.ttlSeconds * 1000,
      serverWrittenAtMost,
      writerExpiresAt: claim.expiresAt === undefined ? undefined : Date.parse(claim.expiresAt),
    });
    return { claim, expired: now >= expiry.deadline, deadline: expiry.deadline, expiry };
  });
}

/** The earliest moment (monotonic ms) a live claim could lapse; Infinity when none can. */
export const nextLapse = (views: ClaimView[]) => Math.min(Infinity, ...views.filter((v) => !v.expired && v.deadline !== undefined).map((v) => v.deadline!));

/** "h1 (reason) until … unless renewed" ("h1 [until …], h2 [until …]" for several): who holds and until when, for busy messages (the rule: `rulesOf`). */
export function holdersText(views: ClaimView[], now: number, wallNow: number): string {
  const live = views.filter((v) => !v.expired);
  if (live.length === 0) return 'nobody';
  return holdersUntilText(
    live.map((v) => ({ holder: v.claim.holder, reason: v.claim.reason, deadline: v.deadline })),
    now,
    wallNow,
  );
}

/** A busy error's `details.rule` for the live claims (core/expiry.ts's ruleOf). */
export const rulesOf = (views: ClaimView[]) => ruleOf(views.filter((v) => !v.expired).map((v) => ({ holder: v.claim.holder, expiry: v.expiry })));
