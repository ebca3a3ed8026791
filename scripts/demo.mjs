// `npm run demo`: brings up the local control plane (building it on first use) and shows koncli
// coordinating real processes on it: a handover between two contenders, `lease run` serialising
// jobs, a semaphore, and `lease status`. Leaves the plane running (`npm run cluster:down` stops it).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { up } from '../test/cluster/plane.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/run.js`;
const { state } = await up({ log: (m) => process.stderr.write(`[cluster] ${m}\n`) });
const env = { ...process.env, KUBECONFIG: state.kubeconfig.admin };
const suffix = Date.now().toString(36);
const lease = `demo-migration-${suffix}`;

const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s) => console.log(`\n${bold(`# ${s}`)}`);

/** Runs koncli, echoing the command line and its output. */
function koncli(args, { quiet = false } = {}) {
  if (!quiet) console.log(`$ koncli ${args.map((a) => (/[\s"'$]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => ((out += d), process.stdout.write(d)));
  child.stderr.on('data', (d) => process.stdout.write(d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

say(`Local control plane ${state.version} at ${state.server}`);
console.log(`export KUBECONFIG=${state.kubeconfig.admin}`);

say('pod-a takes the migration lease; pod-b waits for it (by watching, not polling)');
await koncli(['lease', 'acquire', lease, '--holder', 'pod-a', '--ttl', '30s', '--reason', 'schema v42']);
const waiter = koncli(['lease', 'acquire', lease, '--holder', 'pod-b', '--wait', '--timeout', '60s']);
await new Promise((r) => setTimeout(r, 1500));
await koncli(['lease', 'status', lease]);

say('pod-a finishes and releases: pod-b takes over at once');
const releasedAt = Date.now();
await koncli(['lease', 'release', lease, '--holder', 'pod-a']);
await waiter;
console.log(`(pod-b held the lease ${Date.now() - releasedAt} ms after pod-a's release command returned)`);
await koncli(['lease', 'status', lease]);

say('three jobs share one lease with `lease run`: they run one at a time, each with a fencing token');
await Promise.all(
  ['job-1', 'job-2', 'job-3'].map((job) =>
    koncli(
      [
        'lease',
        'run',
        `demo-job-${suffix}`,
        '--holder',
        job,
        '--wait',
        '--timeout',
        '60s',
        '--',
        'sh',
        '-c',
        `echo "${job} runs with token $KONCLI_FENCING_TOKEN"; sleep 0.5; echo "${job} done"`,
      ],
      { quiet: job !== 'job-1' },
    ),
  ),
);

say('a semaphore of 2: the third locker is turned away (exit 3)');
const sem = `demo-restarts-${suffix}`;
await koncli(['semaphore', 'lock', sem, '--holder', 'db-1', '--max', '2', '--create', '--reason', 'restart']);
await koncli(['semaphore', 'lock', sem, '--holder', 'db-2', '--max', '2']);
const third = await koncli(['semaphore', 'lock', sem, '--holder', 'db-3', '--max', '2']);
console.log(`(exit code ${third.code})`);
await koncli(['semaphore', 'status', sem]);

say('all leases in the namespace');
await koncli(['lease', 'status']);
console.log(`\nThe plane keeps running: export KUBECONFIG=${state.kubeconfig.admin}; stop it with npm run cluster:down`);
