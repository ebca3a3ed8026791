// Memory: peak resident set (VmHWM) of `koncli lease run` holding a lease while its command sleeps
// (renewing meanwhile: the default 15 s TTL renews every 5 s), and of its watchdog (the
// dead-man's switch, a process of its own: src/supervise/watchdog.ts) beside it, with the CPU time
// the watchdog used over the run (utime + stime from /proc/PID/stat, clock ticks); and of a waiter,
// `koncli lease acquire NAME --timeout 8s` on a lease someone else holds.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { watchdogOf } from '../../test/support/watchdog.mjs';
import { memoryOf, sleep, start } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';

const SECONDS = 7;
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU ms (user + system) `pid` has used, or null once it is gone. */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond; // utime, stime (proc(5) fields 14, 15)
  } catch {
    return null;
  }
}

/** Runs argv to its end, sampling every 100 ms; its peak RSS in MB. */
async function peakOf(argv, env, expectedExit) {
  const p = start(argv, { env });
  let peak = 0;
  let done = false;
  p.exited.then(() => (done = true));
  while (!done) {
    peak = Math.max(peak, memoryOf(p.child.pid)?.hwmMb ?? 0);
    await sleep(100);
  }
  const code = await p.exited;
  if (code !== expectedExit) throw new Error(`${argv.join(' ')}: exit ${code}, expected ${expectedExit}: ${p.stderr()}`);
  return peak;
}

/** A waiter that gives up: exit 3 (busy) after 8 s of waiting on the watch of a lease held by someone else. */
async function waiterPeak(tools, i) {
  const held = `bench-memory-held-${i}`;
  const holder = start(tools.koncli('lease', 'acquire', held, '--holder', 'bench-holder', '--ttl', '60s'), { env: tools.env });
  if ((await holder.exited) !== 0) throw new Error(`lease acquire failed: ${holder.stderr()}`);
  return peakOf(tools.koncli('lease', 'acquire', held, '--holder', 'bench-waiter', '--timeout', '8s'), tools.env, 3);
}

export async function memory({ tools, repeats, log }) {
  const waiter = [];
  const koncli = [];
  const watchdog = [];
  const together = [];
  const watchdogCpu = [];
  for (let i = 0; i < repeats; i++) {
    const p = start(tools.koncli('lease', 'run', `bench-memory-${i}`, '--', 'sleep', String(SECONDS)), { env: tools.env });
    const last = { koncli: null, watchdog: null, cpu: null };
    let dog;
    let done = false;
    p.exited.then(() => (done = true));
    while (!done) {
      last.koncli = memoryOf(p.child.pid) ?? last.koncli;
      dog ??= watchdogOf(p.child.pid);
      if (dog) {
        last.watchdog = memoryOf(dog) ?? last.watchdog;
        last.cpu = cpuMsOf(dog) ?? last.cpu;
      }
      await sleep(100);
    }
    if ((await p.exited) !== 0) throw new Error(`lease run failed: ${p.stderr()}`);
    if (!last.watchdog) throw new Error('no watchdog seen beside lease run');
    koncli.push(last.koncli.hwmMb);
    watchdog.push(last.watchdog.hwmMb);
    together.push(last.koncli.hwmMb + last.watchdog.hwmMb);
    watchdogCpu.push(last.cpu);
    waiter.push(await waiterPeak(tools, i));
  }
  log(
    `memory: peak RSS koncli ${koncli.map((m) => m.toFixed(1)).join(', ')} MB; watchdog ${watchdog.map((m) => m.toFixed(1)).join(', ')} MB, CPU ${watchdogCpu.join(', ')} ms; waiter ${waiter.map((m) => m.toFixed(1)).join(', ')} MB`,
  );
  return {
    command: `koncli lease run NAME -- sleep ${SECONDS}`,
    peakRssMb: summarize(koncli),
    watchdogPeakRssMb: summarize(watchdog),
    togetherPeakRssMb: summarize(together),
    watchdogCpuMs: summarize(watchdogCpu, 0),
    waiterPeakRssMb: summarize(waiter),
  };
}
