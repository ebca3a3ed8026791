// `semaphore run` and `kubelock run` give what `lease run` gives (docs/lease-run.md), through the
// same supervision and watchdog: signals reach the command's whole tree and the claim is given back
// only after all of it is gone; a claim removed by someone else (a force) stops the tree, exit 4;
// koncli killed by SIGKILL leaves the watchdog to stop the tree before the claim could lapse, so a
// waiting second holder never overlaps it. The lease run suite's fault tests, for these two kinds.
import { CoreV1Api } from '@kubernetes/client-node';
import { chmodSync, closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, KONCLI_ARGV, runKoncli, spawnKoncli } from '../support/cli.js';
import { readOrEmpty, sleep, until } from '../support/poll.js';
import { guard, isAlive, processesOf } from '../support/processes.js';
import { watchdogOf } from '../support/watchdog.mjs';
import { checkExclusion, secondSection, sectionScript, sectionStarted } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const TTL = '6s'; // renew deadline 4 s; the watchdog signals at 4.25 s and sends SIGKILL by 5.5 s (core/timing.ts)
let ns: string;
let admin: string;
let dir: string;
let worker: string;
let section: string;
const configMaps = () => adminConfig().makeApiClient(CoreV1Api);
const annotations = async (name: string) => (await configMaps().readNamespacedConfigMap({ name, namespace: ns })).metadata?.annotations ?? {};

/** A kind under test: how its run is called, who holds it now, and how an operator breaks it. */
interface Kind {
  kind: string;
  /** Makes the object the claim lives in (kubelock needs an existing object). */
  prepare: (name: string) => Promise<void>;
  run: (name: string) => string[];
  holderOf: (name: string) => Promise<string>;
  force: (name: string, holder: string) => string[];
}

const KINDS: Kind[] = [
  {
    kind: 'semaphore',
    prepare: async () => {},
    run: (name) => ['semaphore', 'run', name, '--max', '1', '--create'],
    holderOf: async (name) => Object.keys(JSON.parse((await annotations(name))['kube-lock'] ?? '{}').holders ?? {}).join(','),
    force: (name, holder) => ['semaphore', 'unlock', name, '--force', '--if-holder', holder],
  },
  {
    kind: 'kubelock',
    prepare: async (name) => void (await configMaps().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } })),
    run: (name) => ['kubelock', 'run', `configmap/${name}`, '--lock', 'L'],
    holderOf: async (name) => JSON.parse((await annotations(name))['kubelock.giantswarm.io/L'] ?? '{}').owner ?? '',
    force: (name, holder) => ['kubelock', 'annotate', `configmap/${name}`, '--lock', 'L', '--release', '--force', '--if-holder', holder],
  },
];

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('claim-run');
  dir = mkdtempSync(join(tmpdir(), 'koncli-claim-run-'));
  section = sectionScript(dir, { endOnTerm: true });
  // worker.sh NAME LOG: says "NAME ready"; on TERM says "NAME got TERM" and exits 0.
  worker = join(dir, 'worker.sh');
  writeFileSync(worker, `#!/bin/sh\ntrap 'echo "$1 got TERM" >> "$2"; exit 0' TERM\necho "$1 ready" >> "$2"\nwhile :; do sleep 0.05; done\n`);
  chmodSync(worker, 0o755);
});

describe.each(KINDS)('$kind run', (k) => {
  const start = (name: string, holder: string, extra: string[], script: string, env: Record<string, string>) =>
    spawnKoncli([...k.run(name), '--holder', holder, ...extra, ...clusterArgs(admin, ns), '--', 'sh', '-c', script], { env });

  test("SIGTERM reaches the command's group and a setsid session; the claim is given back only after all are gone; exit is the command's", async () => {
    const name = `${k.kind}-term`;
    await k.prepare(name);
    const log = join(dir, `${name}.log`);
    const holder = `${name}-${ns}`; // unique per run: no process of an earlier run counts
    const child = start(name, holder, ['--json'], `"$W" group "$L" & setsid "$W" session "$L" & wait`, { W: worker, L: log });
    const done = collect(child);
    await until('two workers', () => (readOrEmpty(log).match(/ready/g) ?? []).length === 2);
    const watch = guard(holder, () => k.holderOf(name));
    await sleep(300);
    child.kill('SIGTERM');
    const result = await done;
    const report = await watch.stop();
    expect(readOrEmpty(log)).toContain('group got TERM');
    expect(readOrEmpty(log)).toContain('session got TERM');
    expect(report).toMatchObject({ violations: 0 });
    expect(report.samples).toBeGreaterThan(0);
    expect(processesOf(holder)).toEqual([]);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: k.kind, namespace: ns, holder, outcome: 'completed', exitCode: result.code });
    expect(await k.holderOf(name)).toBe('');
  });

  test('a claim removed by someone else (a force) is lost: the whole tree is stopped, exit 4', async () => {
    const name = `${k.kind}-lost`;
    await k.prepare(name);
    const log = join(dir, `${name}.log`);
    const holder = `${name}-${ns}`;
    const script = `setsid "$W" daemon "$L" & while :; do sleep 0.05; done`;
    const done = collect(start(name, holder, ['--kill-after', '1s', '--json'], script, { W: worker, L: log }));
    await until('the daemon', () => readOrEmpty(log).includes('daemon ready'));
    expect((await runKoncli([...k.force(name, holder), ...clusterArgs(admin, ns)])).code).toBe(0);
    const result = await done;
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'lost', exitCode: 4, reason: expect.stringMatching(/removed by someone else/) });
    expect(result.stderr).toMatch(new RegExp(`${k.kind} lost: .*removed by someone else; stopping the command`));
    expect(readOrEmpty(log)).toContain('daemon got TERM');
    expect(processesOf(holder)).toEqual([]);
  });

  test('koncli killed by SIGKILL: the watchdog stops the whole tree before the claim could lapse; the next holder never overlaps it', async () => {
    const name = `${k.kind}-kill`;
    await k.prepare(name);
    const log = join(dir, `${name}.log`);
    const holder = `${name}-a-${ns}`;
    const script = `nohup sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 & setsid sleep 300 & echo "tree ready" >> "$L.tree"; exec "$S" "$L" A 120`;
    const stderr = openSync(`${log}.err`, 'w'); // a file: the watchdog's line is written without blocking (docs/lease-run.md)
    const a = spawn(
      KONCLI_ARGV[0],
      [...KONCLI_ARGV.slice(1), ...k.run(name), '--holder', holder, '--ttl', TTL, ...clusterArgs(admin, ns), '--', 'sh', '-c', script],
      {
        env: { ...process.env, NO_COLOR: '1', S: section, L: log },
        stdio: ['pipe', 'pipe', stderr],
      },
    );
    closeSync(stderr);
    const first = collect(a, Date.now(), { timeoutMs: 120_000 });
    await until('section A and its tree', () => sectionStarted(log, 'A') && readOrEmpty(`${log}.tree`).includes('tree ready'));
    const watchdog = watchdogOf(a.pid!);
    expect(watchdog).toBeDefined();
    const watch = guard(holder, () => k.holderOf(name));
    const second = secondSection(k.run(name), `${name}-b`, TTL, clusterArgs(admin, ns), section, log);
    await sleep(500); // B is waiting
    process.kill(a.pid!, 'SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    expect((await second).code).toBe(0);
    const report = await watch.stop();
    expect(readOrEmpty(`${log}.err`)).toMatch(
      new RegExp(`ended while its command ran under ${k.kind} ${ns}/.*${k.kind}-kill; the watchdog stopped the command`),
    );
    expect(report).toMatchObject({ violations: 0 });
    const check = checkExclusion(log);
    expect(check).toMatchObject({ overlaps: [], malformed: [], duplicates: [], tokenRegressions: [] });
    expect(check.sections.map((s) => s.id)).toEqual(['A', 'B']);
    expect(report.goneAt!).toBeLessThanOrEqual(check.sections[1].start);
    expect(processesOf(holder)).toEqual([]);
    await until('the watchdog to exit', () => !isAlive(watchdog!), 5000);
  });
});
