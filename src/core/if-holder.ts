import { KoncliError } from './errors.js';

/**
 * `--force --if-holder X` (issue 22): a force breaks a claim only while each holder named still
 * holds it, as judged on the read the write is guarded by (its resourceVersion), so a holder that
 * changed since the operator looked is never displaced: the write conflicts, the read is redone and
 * this check refuses. Throws `not-held` (exit 5) naming who holds it now; nothing is changed.
 * `expected` undefined or empty: no condition.
 */
export function checkIfHolder(what: string, expected: readonly string[] | undefined, current: readonly string[]): void {
  if (!expected || expected.length === 0) return;
  const gone = expected.filter((h) => !current.includes(h));
  if (gone.length === 0) return;
  const now = current.length ? `held by ${current.join(', ')}` : 'free';
  throw new KoncliError('not-held', `${what} is ${now}, not by ${gone.join(', ')} any more: nothing was broken; look again (koncli status) before forcing`, {
    holders: [...current],
    expected: [...expected],
    reason: 'holder-changed',
  });
}

/** Who broke a claim, for the force Event: the Kubernetes user (SelfSubjectReview), the reason given. */
export interface ForceAuthor {
  /** The Kubernetes user name, or the --holder given when the API could not tell. */
  by: string;
  reason?: string;
}

/** "alice force-released the lease from pod-a (koncli): disk full": the force Event's message. */
export const forceMessage = (author: ForceAuthor, did: string) => `${author.by} ${did} (koncli)${author.reason ? `: ${author.reason}` : ''}`;
