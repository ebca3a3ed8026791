// Throughput: C contenders each run S critical sections (`-- true`) one after another on one
// lease, all at once; the figure is the wall time until every section has run (median of runs).
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
  return {
    tool: name,
    contenders,
    sections,
    seconds: Number(seconds.toFixed(2)),
    sectionsPerSecond: Number(((contenders * sections) / seconds).toFixed(2)),
    requests,
    failures,
  };
}

/**
 * Runs the race `repeats` times per tool, the tools interleaved (koncli, klock, koncli, ...), and
 * reports each tool's median run: klock's polling makes its runs vary several-fold.
 */
export async function throughput({ kube, tools, contenders, sections, repeats, log }) {
  const names = Object.keys(TOOLS).filter((name) => name !== 'klock' || tools.klock);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < repeats; i++) {
    for (const name of names) {
      const r = await race({ kube, tools, name, contenders, sections });
      log(
        `throughput: ${name}: ${contenders}x${sections} sections in ${r.seconds} s${r.failures.length ? ` (${r.failures.length} failed)` : ''} (run ${i + 1}/${repeats})`,
      );
      runs[name].push(r);
    }
  }
  return Object.keys(TOOLS).map((name) => {
    if (!runs[name]) return { tool: name, skipped: tools.klockNote };
    const sorted = [...runs[name]].sort((a, b) => a.seconds - b.seconds);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    return { ...median, runSeconds: runs[name].map((r) => r.seconds), failures: runs[name].flatMap((r) => r.failures) };
  });
}
