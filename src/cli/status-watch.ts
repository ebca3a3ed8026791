import type { ListOptions } from '../core/status/list.js';
import type { LockLister, LockRow } from '../core/status/model.js';
import { WATCH_RETRY_MAX_MS } from '../core/timing.js';
import type { KubeClient } from '../kube/client.js';

/** What a change of a row is: who holds it, its state, renewals, liveness, waiters (not the ticking expiry). */
const fingerprint = (r: LockRow) => JSON.stringify([r.state, r.holders.map((h) => [h.holder, h.state, h.alive]), r.lastRenewed, r.waiters, r.problem ?? null]);
const keyOf = (r: LockRow) => [r.kind, r.namespace, r.object, r.name].join('\u0000');

/** Settles a burst of events (a watch's first ADDED of every object) into one re-list. */
const SETTLE_MS = 200;

/**
 * `koncli status -w`: watches the collections each lister names; after each burst of events lists
 * again and prints the rows that changed (a lock gone is printed once with state free), as `kubectl
 * get -w` prints objects as they change. Runs until SIGINT or SIGTERM.
 */
export async function watchLocks(
  client: KubeClient,
  listers: LockLister[],
  opts: ListOptions,
  relist: () => Promise<LockRow[]>,
  initial: LockRow[],
  print: (changed: LockRow[]) => Promise<void>,
): Promise<void> {
  const { watchCollection } = await import('../kube/watch-collection.js');
  let last = new Map(initial.map((r) => [keyOf(r), r]));
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const update = async () => {
    const rows = await relist();
    const now = new Map(rows.map((r) => [keyOf(r), r]));
    const changed = rows.filter((r) => !last.has(keyOf(r)) || fingerprint(last.get(keyOf(r))!) !== fingerprint(r));
    const gone = [...last.values()]
      .filter((r) => !now.has(keyOf(r)))
      .map((r): LockRow => ({ ...r, state: 'free', holders: [], stuck: false, breakCommand: null }));
    last = now;
    if (changed.length + gone.length) await print([...changed, ...gone]);
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(update).catch((err: Error) => client.trace(`re-list failed: ${err.message}`));
    }, SETTLE_MS);
  };
  const stops: (() => void)[] = [];
  let done = false;
  const paths = [...new Set((await Promise.all(listers.map((l) => l.watchPaths?.(opts.scope) ?? Promise.resolve([])))).flat())];
  const start = async (path: string): Promise<void> => {
    const stop = await watchCollection(client, path, opts.scope.labelSelector, schedule, () => {
      if (!done) setTimeout(() => void (done ? undefined : start(path).catch(() => undefined)), WATCH_RETRY_MAX_MS);
    });
    stops.push(stop);
  };
  await Promise.all(paths.map(start));
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  done = true;
  clearTimeout(timer);
  for (const stop of stops) stop();
}
