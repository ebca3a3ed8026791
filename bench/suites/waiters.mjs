// Waiting in O(N) (docs/lease.md, "Waiting"): N idle `lease acquire --wait` waiters on one held
// lease — their CPU in all, the Lease requests they cost, and how often each is woken — and the
// handover with 20 waiters, for this build and, when KONCLI_BENCH_BASELINE names another checkout
// with its own build (e.g. `git worktree add /tmp/main main && cd /tmp/main && npm ci && npm run
// build`), for that one too: runs alternate between the builds (paired, interleaved), figures are
// medians. Both builds run as the npm build (node bin/run.js), so only the waiting differs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LeaseObserver } from '../lib/observer.mjs';
import { Pool } from '../lib/pool.mjs';
import { cpuSecondsOf, sleep, timed } from '../lib/proc.mjs';
import { requestDelta } from '../lib/kube.mjs';
import { median, summarize } from '../lib/stats.mjs';
import { KONCLI_BIN } from '../lib/tools.mjs';
import { scenario } from './handover.mjs';

/** How long N waiters may take to register before the window is measured anyway. */
const REGISTER_MS = 240_000;
const total = (delta) => Object.values(delta).reduce((a, b) => a + b, 0);

/** The builds to compare: this one, and the baseline checkout's when there is one. */
function buildsFor(tools, log) {
  const koncliAt =
    (bin) =>
    (...args) => [process.execPath, bin, ...tools.koncliNpm(...args).slice(2)];
  const builds = [{ label: 'this build', tag: '-new', koncli: koncliAt(KONCLI_BIN) }];
  const baseline = process.env.KONCLI_BENCH_BASELINE;
  if (!baseline) log('waiters: KONCLI_BENCH_BASELINE not set: this build only (no before/after)');
  else if (!existsSync(join(baseline, 'dist'))) log(`waiters: SKIPPED baseline: ${baseline}/dist missing (build it there first)`);
  else builds.unshift({ label: `baseline (${baseline})`, tag: '-old', koncli: koncliAt(join(baseline, 'bin', 'run.js')) });
  return builds;
}

/**
 * N waiters on a lease held for 30 minutes (no renewals: nothing about the lease changes), over
 * `windowMs` once all are registered: CPU of the waiters, Lease requests (without the API
 * server's own PUTs of its identity lease), and watch events the server sent for Leases minus
 * those of the bench's own two watches, per waiter — each one a wake-up.
 */
async function idle({ kube, tools, build, n, windowMs, round, log }) {
  const lease = `bench-idle${build.tag}-${round}`;
  const hold = await timed(build.koncli('lease', 'acquire', lease, '--holder', 'holder', '--ttl', '30m', '--timeout', '0'), { env: tools.env });
  if (hold.code !== 0) throw new Error(`could not hold ${lease}: ${hold.stderr}`);
  const obs = await new LeaseObserver(kube, tools.namespace, lease).start();
  const argv = (id) => build.koncli('lease', 'acquire', lease, '--holder', id, '--wait', '--timeout', '30m', '--request-timeout', '60s');
  const pool = new Pool(0, argv, tools.env);
  try {
    // On a loaded machine the baseline may not register them all (its heartbeats conflict N² ways):
    // after REGISTER_MS, measure what registered, and say how many.
    const deadline = Date.now() + REGISTER_MS;
    while (pool.size < n && Date.now() < deadline) {
      pool.size = Math.min(n, pool.size + 10); // ten start-ups at a time: two cores
      pool.fill();
      await obs.until(
        (o) => o.queued >= pool.size || Date.now() > deadline,
        REGISTER_MS,
        `${pool.size} waiters to register`,
        () => pool.assertHealthy(),
      );
    }
    await sleep(5000); // start-ups done
    const pids = pool.pids();
    const cpu = () => pids.reduce((s, pid) => s + cpuSecondsOf(pid), 0);
    const [cpu0, req0, watch0, ev0, lease0] = [cpu(), await kube.requestCounters(), await kube.leaseWatchEvents(), obs.events, obs.leaseEvents];
    await sleep(windowMs);
    const [cpu1, req1, watch1, ev1, lease1] = [cpu(), await kube.requestCounters(), await kube.leaseWatchEvents(), obs.events, obs.leaseEvents];
    pool.assertHealthy();
    const delta = requestDelta(req0, req1, ['leases']);
    delete delta['PUT leases'];
    const perMinute = 60_000 / windowMs;
    const r = {
      waiters: n,
      registered: obs.queued,
      cpuSecondsPerMinute: Number(((cpu1 - cpu0) * perMinute).toFixed(2)),
      requestsPerSecond: Number(((total(delta) * 1000) / windowMs).toFixed(2)),
      wakeUpsPerWaiterPerMinute: Number((((watch1 - watch0 - (ev1 - ev0)) / n) * perMinute).toFixed(2)),
      leaseChangesPerMinute: Number(((lease1 - lease0) * perMinute).toFixed(2)),
      byVerb: delta,
    };
    log(
      `waiters: ${build.label}, ${n} idle: ${r.cpuSecondsPerMinute} CPU-s/min, ${r.requestsPerSecond} req/s, ${r.wakeUpsPerWaiterPerMinute} wake-ups/waiter/min`,
    );
    return r;
  } finally {
    await pool.stop('SIGKILL');
    obs.stop();
  }
}

export async function waiters({ kube, tools, n, windowMs, repeats, samples: handoverSamples, log }) {
  const builds = buildsFor(tools, log);
  const runs = new Map(builds.map((b) => [b.label, { idle: [], handover: {} }]));
  for (let round = 0; round < repeats; round++) {
    // Alternate which build goes first, so drift in the machine's load falls on both.
    const order = round % 2 ? [...builds].reverse() : builds;
    for (const build of order) {
      try {
        runs.get(build.label).idle.push(await idle({ kube, tools, build, n, windowMs, round, log }));
      } catch (err) {
        log(`waiters: ${build.label}, idle, round ${round}: ${err.message}`);
        (runs.get(build.label).failures ??= []).push(`idle, round ${round}: ${err.message.slice(0, 300)}`);
      }
    }
    for (const build of order) {
      for (const variant of ['koncli acquire --wait', 'koncli lease run --wait']) {
        // A build that fails a round (e.g. the baseline's holder losing its lease to the waiters' heartbeat
        // conflicts on a loaded machine) is recorded as such; the other build's rounds still count.
        const samples = (runs.get(build.label).handover[variant] ??= []);
        try {
          const r = await scenario({
            kube,
            tools: { ...tools, koncli: build.koncli },
            variant,
            waiters: 20,
            samples: handoverSamples,
            log,
            tag: `${build.tag}-${round}`,
          });
          samples.push(...r.samples);
        } catch (err) {
          log(`waiters: ${build.label}, ${variant}, round ${round}: ${err.message}`);
          (runs.get(build.label).failures ??= []).push(`${variant}, round ${round}: ${err.message.slice(0, 300)}`);
        }
      }
    }
  }
  return builds.map((b) => {
    const { idle: rows, handover, failures = [] } = runs.get(b.label);
    return {
      build: b.label,
      failures,
      idle: {
        waiters: n,
        windowSeconds: windowMs / 1000,
        runs: rows.length,
        registered: rows.map((r) => r.registered),
        cpuSecondsPerMinute: median(rows.map((r) => r.cpuSecondsPerMinute)),
        requestsPerSecond: median(rows.map((r) => r.requestsPerSecond)),
        wakeUpsPerWaiterPerMinute: median(rows.map((r) => r.wakeUpsPerWaiterPerMinute)),
        leaseChangesPerMinute: median(rows.map((r) => r.leaseChangesPerMinute)),
        rows,
      },
      handover: Object.entries(handover)
        .filter(([, ms]) => ms.length > 0)
        .map(([variant, ms]) => ({ variant, waiters: 20, ms: summarize(ms) })),
    };
  });
}
