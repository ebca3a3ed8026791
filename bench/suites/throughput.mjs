// Throughput: C contenders each run S critical sections (`-- true`) one after another on one
// lease, all at once; the figure is the wall time until every section has run.
import { requestDelta } from '../lib/kube.mjs';
import { timed } from '../lib/proc.mjs';

const TOOLS = {
  'koncli lease run --wait': (tools, lease, id) => tools.koncli('lease', 'run', lease, '--holder', id, '--wait', '--timeout', '10m', '--', 'true'),
  klock: (tools, lease, id) => tools.klock('-l', lease, '-i', id, '--', 'true'),
};

async function race({ kube, tools, name, contenders, sections }) {
  const lease = `bench-throughput-${name.split(' ')[0]}`;
  const before = await kube.requestCounters();
  const started = Date.now();
  const failures = [];
  await Promise.all(
    Array.from({ length: contenders }, async (_, c) => {
      for (let s = 0; s < sections; s++) {
        const r = await timed(TOOLS[name](tools, lease, `c${c}-s${s}`), { env: tools.env, timeoutMs: 600_000 });
        if (r.code !== 0) failures.push({ contender: c, section: s, code: r.code, stderr: r.stderr.slice(-300) });
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  // All lease requests in the run (klock writes with PUT; the API server's own lease adds ~0.1 PUT/s).
  const requests = requestDelta(before, await kube.requestCounters(), ['leases']);
  return { tool: name, contenders, sections, seconds: Number(seconds.toFixed(2)), sectionsPerSecond: Number(((contenders * sections) / seconds).toFixed(2)), requests, failures };
}

export async function throughput({ kube, tools, contenders, sections, log }) {
  const out = [];
  for (const name of Object.keys(TOOLS)) {
    if (name === 'klock' && !tools.klock) {
      out.push({ tool: name, skipped: tools.klockNote });
      continue;
    }
    const r = await race({ kube, tools, name, contenders, sections });
    log(`throughput: ${name}: ${contenders}x${sections} sections in ${r.seconds} s${r.failures.length ? ` (${r.failures.length} failed)` : ''}`);
    out.push(r);
  }
  return out;
}
