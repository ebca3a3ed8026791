// Timers from flags and from the cluster (TTLs, --kill-after and its default, renew deadlines, wait
// timeouts, expiries, request timeouts) of months and years: Node fires a timer over 2^31-1 ms
// after 1 ms, with a TimeoutOverflowWarning. koncli arms every such timer through core/timer.ts, so
// the graceful path holds (TERM, then the grace period, then KILL — never KILL at once) and no
// warning is printed. test/unit/core/timer.test.ts drives the same timers through a year of
// virtual time and shows each fires exactly when due.
import { CoreV1Api } from '@kubernetes/client-node';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { until, readOrEmpty, sleep } from '../support/poll.js';
import { processesOf } from '../support/processes.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
let dir: string;
let worker: string;
const YEAR = '8760h';
const read = readOrEmpty;
const k = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)]);
/** koncli ARGS, with the cluster flags before any `-- command`. */
const start = (...args: string[]) => {
  const dash = args.indexOf('--');
  const [own, command] = dash < 0 ? [args, []] : [args.slice(0, dash), args.slice(dash)];
  return spawnKoncli([...own, ...clusterArgs(admin, ns), ...command]);
};
const noOverflow = (r: CliResult) => expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|does not fit into a 32-bit signed integer/);
beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('long-timers');
  dir = mkdtempSync(join(tmpdir(), 'koncli-timers-'));
  worker = join(dir, 'worker.sh');
  // worker.sh NAME LOG GRACE: on TERM says "NAME got TERM at <ms>", takes GRACE s, says "NAME exits at <ms>", exits 0.
  writeFileSync(
    worker,
    `#!/bin/sh
name=$1 log=$2 grace=$3
trap "echo \\"$name got TERM at \\$(date +%s%3N)\\" >> $log; sleep $grace; echo \\"$name exits at \\$(date +%s%3N)\\" >> $log; exit 0" TERM
echo "$name ready" >> "$log"
while :; do sleep 0.05; done
`,
  );
  chmodSync(worker, 0o755);
});

const at = (log: string, what: string) => Number(new RegExp(`${what} at (\\d+)`).exec(read(log))?.[1]);

describe('timers of months and years', () => {
  test(`lease run --ttl ${YEAR}: a lost lease sends TERM and the default --kill-after (3 months) gives the command its grace; no renewal storm`, async () => {
    const log = join(dir, 'ttl.log');
    const child = spawnKoncli(
      ['lease', 'run', 'year-ttl', '--holder', 'year', '--ttl', YEAR, '--json', ...clusterArgs(admin, ns), '--', worker, 'cmd', log, '1'],
      {},
    );
    const done = collect(child);
    await until('the command', () => read(log).includes('cmd ready'));
    await sleep(300); // room for a renewal storm, were the 4-month renewal timer to fire at once
    expect((await k('lease', 'release', 'year-ttl', '--holder', 'operator', '--force')).code).toBe(0);
    const result = await done;
    noOverflow(result);
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'lost', renewals: 0, commandExit: 0 }); // it exited by itself, not by SIGKILL
    expect(at(log, 'cmd exits') - at(log, 'cmd got TERM')).toBeGreaterThanOrEqual(900);
  });

  test('--kill-after of a year: a leftover that cleans up on TERM is given the time, and the lease is released after', async () => {
    const log = join(dir, 'kill-after.log');
    const result = await collect(
      start(
        'lease',
        'run',
        'year-kill-after',
        '--holder',
        `year-ka-${ns}`,
        '--ttl',
        '2147483647s',
        '--kill-after',
        YEAR,
        '--',
        'sh',
        '-c',
        `setsid "${worker}" left "${log}" 1 & until grep -q ready "${log}"; do sleep 0.02; done`,
      ),
    );
    noOverflow(result);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stopping (it|them) \(SIGTERM, then SIGKILL after 365d\)/);
    expect(at(log, 'left exits') - at(log, 'left got TERM')).toBeGreaterThanOrEqual(900);
    expect(processesOf(`year-ka-${ns}`)).toEqual([]);
  });

  test('--kill-after of 30 days: a leftover that ignores TERM is not killed early; koncli keeps the lease until it is gone', async () => {
    const holder = `month-ka-${ns}`; // unique per run: a process left by an earlier run cannot count
    const child = start(
      'lease',
      'run',
      'month-kill-after',
      '--holder',
      holder,
      '--kill-after',
      '720h',
      '--',
      'sh',
      '-c',
      `nohup sh -c 'trap "" TERM; while :; do sleep 0.05; done' >/dev/null 2>&1 &`,
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const done = collect(child);
    await until('koncli to send the leftover TERM', () => /stopping (it|them) \(SIGTERM, then SIGKILL after 30d\)/.test(stderr));
    await sleep(2000);
    const stubborn = processesOf(holder);
    expect(stubborn.length).toBeGreaterThan(0); // TERM ignored, SIGKILL not sent after 1 ms
    const status = await k('lease', 'status', 'month-kill-after', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ holder });
    for (const pid of stubborn) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // a `sleep 0.05` of its loop that has just ended
      }
    }
    const result = await done;
    noOverflow(result);
    expect(result.code).toBe(0);
    expect(processesOf(holder)).toEqual([]);
  });

  test(`waiting: --timeout ${YEAR} and a holder's TTL of a year; a one-year --request-timeout cap (24d)`, async () => {
    expect((await k('lease', 'acquire', 'year-wait', '--holder', 'a', '--ttl', YEAR)).code).toBe(0);
    const short = await k('lease', 'acquire', 'year-wait', '--holder', 'b', '--timeout', '2s');
    noOverflow(short);
    expect(short.code).toBe(3);
    expect(short.ms).toBeGreaterThanOrEqual(2000);
    const waiter = collect(start('lease', 'acquire', 'year-wait', '--holder', 'c', '--wait', '--timeout', YEAR, '--request-timeout', '24d'));
    await sleep(1500);
    expect((await k('lease', 'release', 'year-wait', '--holder', 'a')).code).toBe(0);
    const result = await waiter;
    noOverflow(result);
    expect(result.code).toBe(0);
  });

  test('semaphore and kubelock TTLs of a year: waiters time out on their own --timeout, without warnings', async () => {
    await adminConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'year-target' } } });
    expect((await k('semaphore', 'lock', 'year-sem', '--holder', 'a', '--max', '1', '--ttl', YEAR, '--create')).code).toBe(0);
    expect((await k('kubelock', 'annotate', 'configmap/year-target', '--lock', 'l', '--owner', 'a', '--ttl', YEAR)).code).toBe(0);
    const [sem, lock] = await Promise.all([
      k('semaphore', 'lock', 'year-sem', '--holder', 'b', '--ttl', YEAR, '--timeout', '2s'),
      k('kubelock', 'annotate', 'configmap/year-target', '--lock', 'l', '--owner', 'b', '--ttl', YEAR, '--timeout', '2s'),
    ]);
    for (const r of [sem, lock]) {
      noOverflow(r);
      expect(r.code).toBe(3);
      expect(r.ms).toBeGreaterThanOrEqual(2000);
    }
  });
});
