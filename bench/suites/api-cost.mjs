// API cost, counted by the API server itself: the change in apiserver_request_total (by verb,
// for the resources koncli touches) across each operation. kube-apiserver renews its own
// identity Lease in kube-system with PUT (update) every 10 s; koncli never sends PUT, so
// that verb is left out rather than attributed to koncli. Under heavy load the API server's
// lease controller also re-reads its lease (GET); such background requests only ever add to a
// delta, so each operation's figure is the fewest requests over its repetitions (all are kept).
import { LeaseObserver } from '../lib/observer.mjs';
import { Pool } from '../lib/pool.mjs';
import { sleep, start, timed } from '../lib/proc.mjs';
import { requestDelta } from '../lib/kube.mjs';

const RESOURCES = ['leases', 'pods', 'events'];
const total = (delta) => Object.values(delta).reduce((a, b) => a + b, 0);

/** Requests the server counted while `fn` ran (without the API server's own PUT of its lease). */
async function counted(kube, fn) {
  const before = await kube.requestCounters();
  const value = await fn();
  const after = await kube.requestCounters();
  const delta = requestDelta(before, after, RESOURCES);
  delete delta['PUT leases'];
  return { delta, value };
}

async function oneShot(kube, tools, repeats, argvFor) {
  const runs = [];
  for (let i = 0; i < repeats; i++) {
    const { delta } = await counted(kube, async () => {
      const r = await timed(argvFor(i), { env: tools.env });
      if (r.code !== 0) throw new Error(`${argvFor(i).join(' ')}: exit ${r.code} ${r.stderr}`);
    });
    runs.push(delta);
  }
  return fewest(runs);
}

/** The repetition with the fewest requests (background traffic only adds), and all the totals. */
function fewest(runs) {
  const best = runs.reduce((a, b) => (total(b) < total(a) ? b : a));
  return { requests: total(best), byVerb: best, runs: runs.map(total) };
}

/** Requests per renewal inside `lease run` (TTL 3 s: renews every second), over three windows of its hold. */
async function renewCost(kube, tools) {
  const lease = 'bench-api-renew';
  const obs = await new LeaseObserver(kube, tools.namespace, lease).start();
  const p = start(tools.koncli('lease', 'run', lease, '--holder', 'renewer', '--ttl', '3s', '--', 'sleep', '13'), { env: tools.env });
  try {
    await obs.until((o) => o.holder === 'renewer', 60_000, 'lease run to hold the lease');
    await sleep(500);
    const windows = [];
    for (let i = 0; i < 3; i++) {
      const from = obs.renewals;
      const { delta } = await counted(kube, () => sleep(3500));
      const renewals = obs.renewals - from;
      windows.push({ renewals, requests: total(delta), perRenewal: renewals ? Number((total(delta) / renewals).toFixed(2)) : null, byVerb: delta });
    }
    if ((await p.exited) !== 0) throw new Error(`lease run failed: ${p.stderr()}`);
    const best = windows.filter((w) => w.perRenewal !== null).reduce((a, b) => (b.perRenewal < a.perRenewal ? b : a));
    return { ...best, windows: windows.map((w) => w.perRenewal) };
  } finally {
    p.child.kill('SIGKILL');
    obs.stop();
  }
}

/**
 * Request rate of N idle `acquire --wait` waiters on a held lease, over `windowMs` once all are
 * queued (or, on a machine too loaded to register them all in 10 minutes, once that time is up:
 * the result then says how many were queued).
 */
async function idleWaiters(kube, tools, n, windowMs, log) {
  const lease = 'bench-api-idle';
  const hold = await timed(tools.koncli('lease', 'acquire', lease, '--holder', 'holder', '--ttl', '30m', '--timeout', '0'), { env: tools.env });
  if (hold.code !== 0) throw new Error(`could not hold ${lease}: ${hold.stderr}`);
  const obs = await new LeaseObserver(kube, tools.namespace, lease).start();
  // Started ten at a time: a hundred Node start-ups at once on two cores starve the API server.
  const pool = new Pool(
    0,
    (id) => tools.koncli('lease', 'acquire', lease, '--holder', id, '--wait', '--timeout', '30m', '--request-timeout', '60s'),
    tools.env,
  );
  try {
    const t0 = Date.now();
    const deadline = t0 + 600_000;
    while (pool.size < n && Date.now() < deadline) {
      pool.size = Math.min(n, pool.size + 10);
      pool.fill();
      await obs.until(
        (o) => o.queued >= pool.size || Date.now() > deadline,
        600_000,
        `${pool.size} waiters to register`,
        () => pool.assertHealthy(),
      );
    }
    log(`api: ${obs.queued} of ${n} waiters registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const queuedBefore = obs.queued;
    const { delta } = await counted(kube, () => sleep(windowMs));
    pool.assertHealthy();
    return {
      waiters: n,
      live: pool.live,
      queuedBefore,
      queuedAfter: obs.queued,
      windowSeconds: windowMs / 1000,
      requests: total(delta),
      perSecond: Number((total(delta) / (windowMs / 1000)).toFixed(2)),
      byVerb: delta,
    };
  } finally {
    await pool.stop('SIGKILL');
    obs.stop();
  }
}

export async function apiCost({ kube, tools, repeats, idleWaiters: n, windowMs, log }) {
  const lease = 'bench-api';
  // The lease exists from here on: the next acquires extend it, then the releases free it.
  const created = await timed(tools.koncli('lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'), { env: tools.env });
  if (created.code !== 0) throw new Error(`could not create ${lease}: ${created.stderr}`);
  const acquire = await oneShot(kube, tools, repeats, () => tools.koncli('lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'));
  const release = await oneShot(kube, tools, repeats, () => tools.koncli('lease', 'release', lease, '--holder', 'h'));
  // Uncontended acquire of a free, existing lease (released after each acquire).
  const interleaved = { acquire: [], release: [] };
  for (let i = 0; i < repeats; i++) {
    const a = await counted(kube, () => timed(tools.koncli('lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'), { env: tools.env }));
    const r = await counted(kube, () => timed(tools.koncli('lease', 'release', lease, '--holder', 'h'), { env: tools.env }));
    interleaved.acquire.push(a.delta);
    interleaved.release.push(r.delta);
  }
  const create = await oneShot(kube, tools, repeats, (i) => tools.koncli('lease', 'acquire', `bench-api-new-${i}`, '--holder', 'h', '--timeout', '0'));
  const renew = await renewCost(kube, tools);
  const acquireFree = fewest(interleaved.acquire);
  const releaseHeld = fewest(interleaved.release);
  log(`api: acquire ${acquireFree.requests}, release ${releaseHeld.requests}, per renewal ${renew.perRenewal}`);
  const idle = await idleWaiters(kube, tools, n, windowMs, log);
  log(`api: ${n} idle waiters: ${idle.perSecond} requests/s`);
  return { acquireFree, acquireNew: create, release: releaseHeld, extendHeld: acquire, releaseFree: release, renew, idle };
}
