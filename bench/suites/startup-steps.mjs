// The start-up work step by step: `lease status NAME --json` and `lease acquire NAME --timeout 0`
// run with KONCLI_STARTUP_TIMING=1 (src/cli/startup-timing.ts), which prints when each step was
// reached (ms since the process started), on both builds, interleaved. Each row: the median
// duration of one step over the rounds.
import { timed } from '../lib/proc.mjs';
import { median } from '../lib/stats.mjs';

/** [mark that ends the step, label]; a step runs from the previous mark (process start for the first). */
export const STEPS = [
  ['v8Start', "npm build: process start to V8 running (loading the binary, Node's C++ start)"],
  ['environment', "V8 heap and context (Node's own snapshot)"],
  ['bootstrapComplete', "Node's pre-execution (options, environment)"],
  ['main', 'the executable: process start to its entry running (Bun and the bytecode loaded)'],
  ['entry', "to koncli's entry: bin/run.js and dist/entry.js (npm build); koncli.ts and the embedded plugins (executable)"],
  ['oclifLoaded', 'oclif: configuration, command lookup, loading the command'],
  ['kubeconfig', 'flags parsed, client modules loaded, kubeconfig read and parsed'],
  ['connected', 'first request built, undici loaded, TCP connect and TLS handshake'],
  ['response', 'request to response headers (HTTP/2)'],
  ['output', 'response body and decoding; `status`: the holder Pod lookup (a second request); the result printed'],
  ['exit', 'exit'],
];

export async function startupSteps({ tools, rounds, log }) {
  const lease = 'bench-startup';
  const commands = [
    { id: 'status', args: ['lease', 'status', lease, '--json'] },
    { id: 'acquire', args: ['lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'] },
  ];
  const builds = [
    { id: 'exe', label: 'dist/bin/koncli', argv: tools.koncli },
    { id: 'npm', label: 'npm build', argv: tools.koncliNpm },
  ];
  const cells = builds.flatMap((b) => commands.map((c) => ({ build: b.id, command: c.id, argv: b.argv(...c.args), runs: [] })));
  const env = { ...tools.env, KONCLI_STARTUP_TIMING: '1' };
  for (const cell of cells) await timed(cell.argv, { env }); // warm-up
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < cells.length; k++) {
      const cell = cells[(i + k) % cells.length];
      const r = await timed(cell.argv, { env });
      const line = r.stderr.split('\n').find((l) => l.startsWith('{"timing"'));
      if (r.code !== 0 || !line) throw new Error(`${cell.argv.join(' ')}: exit ${r.code} ${r.stderr.slice(0, 300)}`);
      cell.runs.push({ marks: JSON.parse(line).timing, wallMs: r.wallMs, cpuMs: r.cpuMs });
    }
  }
  log(`steps: ${cells.length} cells x ${rounds} rounds`);
  return cells.map((cell) => {
    const steps = STEPS.map(([mark], j) => {
      const durations = cell.runs
        .map(({ marks }) =>
          marks[mark] === undefined
            ? null
            : marks[mark] -
              (j === 0
                ? 0
                : (STEPS.slice(0, j)
                    .reverse()
                    .map(([m]) => marks[m])
                    .find((v) => v !== undefined) ?? 0)),
        )
        .filter((v) => v !== null);
      return { mark, ms: durations.length ? Number(median(durations).toFixed(1)) : null };
    });
    const total = (f) => Number(median(cell.runs.map(f).filter((v) => v !== null)).toFixed(1));
    return {
      build: cell.build,
      command: cell.command,
      n: cell.runs.length,
      steps,
      wallMs: total((r) => r.wallMs),
      cpuMs: total((r) => r.cpuMs),
      exitMark: total((r) => r.marks.exit),
    };
  });
}
