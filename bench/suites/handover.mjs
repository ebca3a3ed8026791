// Handover latency: from the event that frees the lease to the event that shows the next holder,
// both as the bench's own watch receives them from the API server. Before each release the bench
// waits until all W contenders are waiting (koncli: registered in the lease's queue), so every
// sample is a handover with W waiters.
import { LeaseObserver } from '../lib/observer.mjs';
import { Pool } from '../lib/pool.mjs';
import { summarize } from '../lib/stats.mjs';

const microTime = () => new Date().toISOString().replace(/Z$/, '000Z');

/** The tools' ways to wait for the lease; `release` ends the current holder's critical section. */
const VARIANTS = {
  'koncli acquire --wait': (tools, lease) => ({
    // Waiters exit holding the lease; the bench releases it (the same write as `koncli lease release`).
    contenders: (w) => w,
    argv: (id) => tools.koncli('lease', 'acquire', lease, '--holder', id, '--wait', '--timeout', '10m', '--ttl', '5m'),
    first: (id) => tools.koncli('lease', 'acquire', lease, '--holder', id, '--timeout', '0', '--ttl', '5m'),
    ready: (obs, pool, w) => obs.queued >= w,
    release: async (obs, pool, kube) => {
      const l = obs.latest;
      await kube.patchLease(tools.namespace, lease, {
        metadata: { resourceVersion: l.metadata.resourceVersion, annotations: { 'koncli.dev/renewals': '0' } },
        spec: { holderIdentity: '', renewTime: microTime() },
      });
    },
  }),
  'koncli lease run --wait': (tools, lease) => ({
    // One contender holds (its command, `sed q`, ends when it reads a line), W wait; the holder's own
    // `lease run` releases when the bench ends its command.
    contenders: (w) => w + 1,
    argv: (id) => tools.koncli('lease', 'run', lease, '--holder', id, '--wait', '--timeout', '10m', '--', 'sed', 'q'),
    ready: (obs, pool, w) => obs.queued >= w,
    release: async (obs, pool) => pool.release(obs.holder),
  }),
  klock: (tools, lease) => ({
    contenders: (w) => w + 1,
    argv: (id) => tools.klock('-l', lease, '-i', id, '--', 'sed', 'q'),
    // klock has no queue: a waiter is a live process that has had time to start polling.
    ready: (obs, pool, w) => pool.settled(1000, obs.holder) >= w,
    release: async (obs, pool) => pool.release(obs.holder),
  }),
};

/** One variant with `waiters` waiters, `samples` handovers; `tag` tells apart leases of runs that compare builds (suites/waiters.mjs). */
export async function scenario({ kube, tools, variant, waiters, samples, log, tag = '' }) {
  const lease = `bench-handover-${variant.replace(/\W+/g, '-')}-${waiters}${tag}`.replace(/-+/g, '-').toLowerCase();
  const v = VARIANTS[variant](tools, lease);
  const obs = await new LeaseObserver(kube, tools.namespace, lease).start();
  const pool = new Pool(v.contenders(waiters), v.argv, tools.env);
  try {
    if (v.first) {
      const { timed } = await import('../lib/proc.mjs');
      const r = await timed(v.first('bench'), { env: tools.env });
      if (r.code !== 0) throw new Error(`first holder: ${r.stderr}`);
    }
    pool.fill();
    for (let i = 0; i < samples; i++) {
      const healthy = () => pool.assertHealthy();
      await obs.until((o) => o.holder !== '' && v.ready(o, pool, waiters), 120_000, `${waiters} waiters`, healthy);
      const before = obs.handovers.length;
      await v.release(obs, pool, kube);
      await obs.until((o) => o.handovers.length > before, 60_000, 'the next holder', healthy);
      await obs.until(() => pool.live < pool.size || i === samples - 1, 60_000, 'the finished contender to exit', healthy);
      pool.fill();
    }
    log(`handover: ${variant}, ${waiters} waiter(s): ${samples} samples`);
    const ms = obs.handovers.map((h) => h.ms);
    return {
      variant,
      waiters,
      ms: summarize(ms),
      waitingAtRelease: summarize(
        obs.handovers.map((h) => h.waiting),
        0,
      ),
      samples: ms.map((x) => Number(x.toFixed(2))),
    };
  } finally {
    await pool.stop();
    obs.stop();
  }
}

export async function handover({ kube, tools, samplesFor, log }) {
  const results = [];
  for (const variant of Object.keys(VARIANTS)) {
    for (const waiters of [1, 20]) {
      if (variant === 'klock' && !tools.klock) {
        results.push({ variant, waiters, skipped: tools.klockNote });
        continue;
      }
      results.push(await scenario({ kube, tools, variant, waiters, samples: samplesFor(waiters), log }));
    }
  }
  return results;
}
