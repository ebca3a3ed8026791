// Start-up: wall (and CPU) time of one-shot commands, run interleaved round by round so that
// load on the machine hits every tool alike. Each row: median and p99 over the rounds. The
// single executable (dist/bin/koncli) is what the targets judge; the npm build runs beside it.
import { timed } from '../lib/proc.mjs';
import { median, summarize } from '../lib/stats.mjs';

export async function startup({ tools, state, rounds, log }) {
  const lease = 'bench-startup';
  const klockLease = 'bench-startup-klock';
  const setup = await timed(tools.koncli('lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'), { env: tools.env });
  if (setup.code !== 0) throw new Error(`could not create lease ${lease}: ${setup.stderr}`);
  const floor = [
    process.execPath,
    new URL('../lib/floor.mjs', import.meta.url).pathname,
    state.server,
    state.pki.caCert,
    state.pki.adminCert,
    state.pki.adminKey,
    `/apis/coordination.k8s.io/v1/namespaces/${tools.namespace}/leases/${lease}`,
  ];
  const status = ['lease', 'status', lease, '--json'];
  const acquire = ['lease', 'acquire', lease, '--holder', 'h', '--timeout', '0'];
  const rows = [
    { id: 'node', label: '`node -e 0` (reference: Node itself)', argv: [process.execPath, '-e', '0'] },
    { id: 'floor', label: 'bare Node HTTPS GET of the lease (reference: the floor for any Node CLI)', argv: floor },
    { id: 'version', label: '`dist/bin/koncli --version`', argv: tools.koncliBare('--version') },
    { id: 'status', label: '`dist/bin/koncli lease status NAME --json`', argv: tools.koncli(...status) },
    { id: 'acquire', label: '`dist/bin/koncli lease acquire NAME --holder h --timeout 0`', argv: tools.koncli(...acquire) },
    { id: 'kubectl', label: '`kubectl get lease NAME -o json`', argv: tools.kubectl('get', 'lease', lease, '-o', 'json') },
    { id: 'npm-version', label: 'npm build: `koncli --version`', argv: tools.koncliNpmBare('--version') },
    { id: 'npm-status', label: 'npm build: `koncli lease status NAME --json`', argv: tools.koncliNpm(...status) },
    { id: 'npm-acquire', label: 'npm build: `koncli lease acquire NAME --holder h --timeout 0`', argv: tools.koncliNpm(...acquire) },
    tools.klock
      ? { id: 'klock', label: '`klock -l NAME -i h -- true`', argv: tools.klock('-l', klockLease, '-i', 'h', '--', 'true') }
      : { id: 'klock', label: '`klock -l NAME -i h -- true`', skipped: tools.klockNote },
  ];
  const live = rows.filter((r) => !r.skipped);
  const wall = Object.fromEntries(live.map((r) => [r.id, []]));
  const cpu = Object.fromEntries(live.map((r) => [r.id, []]));
  for (const r of live) await timed(r.argv, { env: tools.env }); // warm-up: page cache, compile cache
  for (let i = 0; i < rounds; i++) {
    // Rotate the order each round, so no tool always runs right after the same one.
    for (let k = 0; k < live.length; k++) {
      const r = live[(i + k) % live.length];
      const res = await timed(r.argv, { env: tools.env });
      if (res.code !== 0) throw new Error(`${r.argv.join(' ')} exited ${res.code}: ${res.stderr.slice(0, 500)}`);
      wall[r.id].push(res.wallMs);
      if (res.cpuMs !== null) cpu[r.id].push(res.cpuMs);
    }
    if ((i + 1) % 5 === 0) log(`startup: ${i + 1}/${rounds} rounds`);
  }
  const paired = (a, b) => (wall[a] && wall[b] ? median(wall[a].map((v, i) => v / wall[b][i])) : null);
  return {
    rows: rows.map((r) =>
      r.skipped ? { id: r.id, label: r.label, skipped: r.skipped } : { id: r.id, label: r.label, wallMs: summarize(wall[r.id]), cpuMs: summarize(cpu[r.id]) },
    ),
    statusVsKubectl: paired('status', 'kubectl'),
    acquireVsKubectl: paired('acquire', 'kubectl'),
    npmStatusVsKubectl: paired('npm-status', 'kubectl'),
    floorVsKubectl: paired('floor', 'kubectl'),
  };
}
