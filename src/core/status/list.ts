import type { HolderRow, JudgeLiveness, ListScope, LockLister, LockRow } from './model.js';

/** Namespaces of the node heartbeats and the control plane's own leases: shown only with --system. */
export const SYSTEM_NAMESPACES = ['kube-node-lease', 'kube-system'];

export interface ListOptions {
  scope: ListScope;
  /** Include SYSTEM_NAMESPACES when listing all namespaces. */
  system: boolean;
  /** Keep only stuck locks. */
  stuck: boolean;
  /** How the command line that breaks a lock starts ("koncli", "kubectl koncli"). */
  bin: string;
}

/** A holder is stuck when judged dead or past its own expiry. */
const stuckHolder = (h: HolderRow) => h.state === 'expired' || h.alive === false;

/** The row-level verdict: any dead holder makes the lock's holders dead; all alive, alive. */
function aliveOf(holders: HolderRow[]): Pick<LockRow, 'alive' | 'aliveReason'> {
  const dead = holders.find((h) => h.alive === false);
  if (dead) return { alive: false, aliveReason: holders.length > 1 ? `${dead.holder}: ${dead.aliveReason}` : dead.aliveReason };
  if (holders.length > 0 && holders.every((h) => h.alive === true)) return { alive: true, aliveReason: holders.map((h) => h.aliveReason).join('; ') };
  const unknown = holders.find((h) => h.alive === null);
  return { alive: null, aliveReason: unknown ? (holders.length > 1 ? `${unknown.holder}: ${unknown.aliveReason}` : unknown.aliveReason) : null };
}

/** One shell word: as is when it needs no quoting, else in single quotes (POSIX sh). */
export const shellQuote = (word: string) => (/^[\w./:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * Fills in liveness, the stuck verdict and the break command of one row (the stuck holders'
 * when it is stuck, else every holder's). Also what `semaphore status NAME` and `kubelock status
 * TYPE/NAME` say of their one lock.
 */
export async function judgeRow(row: LockRow, lister: LockLister, judge: JudgeLiveness, bin: string): Promise<LockRow> {
  const holders = await Promise.all(
    row.holders.map(async (h) => {
      const l = await judge(h.holder, row.namespace ?? undefined);
      return { ...h, alive: l.alive, aliveReason: l.reason };
    }),
  );
  const stuckOnes = holders.filter(stuckHolder).map((h) => h.holder);
  const stuck = row.state === 'expired' || stuckOnes.length > 0;
  const victims = stuck ? stuckOnes : holders.map((h) => h.holder);
  const args = victims.length ? lister.breakArgs(row, victims) : null;
  const breakCommand = args ? [bin, ...args.map(shellQuote)].join(' ') : null;
  return { ...row, holders, ...aliveOf(holders), stuck, breakCommand };
}

/**
 * The one listing loop of `koncli status`: every lister in parallel, each row judged for liveness
 * (lookups shared through `judge`, which the caller caches), filtered, sorted by kind, namespace
 * and name. Listers that fail reject the whole listing; what a lister skipped is returned for -v.
 */
export async function listLocks(listers: LockLister[], judge: JudgeLiveness, opts: ListOptions): Promise<{ rows: LockRow[]; skipped: string[] }> {
  const listings = await Promise.all(listers.map(async (l) => ({ lister: l, listing: await l.list(opts.scope) })));
  const visible = (row: LockRow) => opts.system || opts.scope.namespace !== undefined || !SYSTEM_NAMESPACES.includes(row.namespace ?? '');
  const rows = await Promise.all(listings.flatMap(({ lister, listing }) => listing.rows.filter(visible).map((r) => judgeRow(r, lister, judge, opts.bin))));
  const key = (r: LockRow) => [r.kind, r.namespace ?? '', r.object ?? '', r.name].join('\u0000');
  return {
    rows: rows.filter((r) => !opts.stuck || r.stuck).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)),
    skipped: listings.flatMap(({ listing }) => listing.skipped),
  };
}
