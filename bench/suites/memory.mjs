// Memory: peak resident set (VmHWM) of
//  - `koncli lease run` holding a lease while its command sleeps (renewing meanwhile: the default
//    15 s TTL renews every 5 s), counted with lease run's watchdog: every descendant of koncli
//    whose command line holds `__watchdog` (the single executable re-running itself, src/exe/main.ts)
//    adds its own peak;
//  - a waiter, `koncli lease acquire NAME --timeout 8s` on a lease someone else holds.
import { readFileSync, readdirSync } from 'node:fs';
import { memoryOf, sleep, start } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';

/** Descendants of `pid` whose command line holds `__watchdog`. */
function watchdogsOf(pid) {
  const parent = new Map();
  const cmdline = new Map();
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      parent.set(
        Number(p),
        Number(
          readFileSync(`/proc/${p}/stat`, 'utf8')
            .replace(/^.*\) /s, '')
            .split(' ')[1],
        ),
      );
      cmdline.set(Number(p), readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      // gone meanwhile
    }
  }
  const descends = (p) => {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q)) if (q === pid) return true;
    return false;
  };
  return [...cmdline].filter(([p, c]) => c.split('\0').includes('__watchdog') && descends(p)).map(([p]) => p);
}

/** Runs argv to its end, sampling every 100 ms; the peak RSS of the process plus each watchdog's own peak, in MB. */
async function peakOf(argv, env, expectedExit) {
  const p = start(argv, { env });
  const peaks = new Map();
  let done = false;
  p.exited.then(() => (done = true));
  while (!done) {
    for (const pid of [p.child.pid, ...watchdogsOf(p.child.pid)]) {
      const m = memoryOf(pid);
      if (m) peaks.set(pid, m.hwmMb);
    }
    await sleep(100);
  }
  const code = await p.exited;
  if (code !== expectedExit) throw new Error(`${argv.join(' ')}: exit ${code}, expected ${expectedExit}: ${p.stderr()}`);
  return { totalMb: [...peaks.values()].reduce((a, b) => a + b, 0), processes: peaks.size };
}

export async function memory({ tools, repeats, log }) {
  const run = [];
  const waiter = [];
  let watchdogs = 0;
  for (let i = 0; i < repeats; i++) {
    const r = await peakOf(tools.koncli('lease', 'run', `bench-memory-${i}`, '--', 'sleep', '7'), tools.env, 0);
    run.push(r.totalMb);
    watchdogs = Math.max(watchdogs, r.processes - 1);
    const held = `bench-memory-held-${i}`;
    const holder = start(tools.koncli('lease', 'acquire', held, '--holder', 'bench-holder', '--ttl', '60s'), { env: tools.env });
    if ((await holder.exited) !== 0) throw new Error(`lease acquire failed: ${holder.stderr()}`);
    // A waiter that gives up: exit 3 (busy) after 8 s of waiting on the watch.
    waiter.push((await peakOf(tools.koncli('lease', 'acquire', held, '--holder', 'bench-waiter', '--timeout', '8s'), tools.env, 3)).totalMb);
  }
  log(
    `memory: lease run peak RSS ${run.map((m) => m.toFixed(1)).join(', ')} MB (${watchdogs} watchdog process(es)); waiter ${waiter.map((m) => m.toFixed(1)).join(', ')} MB`,
  );
  return { command: 'koncli lease run NAME -- sleep 7', peakRssMb: summarize(run), watchdogs, waiterPeakRssMb: summarize(waiter) };
}
