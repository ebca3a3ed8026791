// Memory: peak resident set (VmHWM) of `koncli lease run` holding a lease while its command sleeps
// (renewing meanwhile: the default 15 s TTL renews every 5 s).
import { memoryOf, sleep, start } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';

export async function memory({ tools, repeats, log }) {
  const peaks = [];
  for (let i = 0; i < repeats; i++) {
    const p = start(tools.koncli('lease', 'run', `bench-memory-${i}`, '--', 'sleep', '7'), { env: tools.env });
    let last = null;
    let done = false;
    p.exited.then(() => (done = true));
    while (!done) {
      last = memoryOf(p.child.pid) ?? last;
      await sleep(100);
    }
    if ((await p.exited) !== 0) throw new Error(`lease run failed: ${p.stderr()}`);
    peaks.push(last.hwmMb);
  }
  log(`memory: peak RSS ${peaks.map((m) => m.toFixed(1)).join(', ')} MB`);
  return { command: 'koncli lease run NAME -- sleep 7', peakRssMb: summarize(peaks) };
}
