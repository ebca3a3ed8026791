// "Never two holders under real-world conditions" (issue 13), one test per kind, on the real
// control plane through the real CLI: peers' records written exactly as the peers write them, wall
// clock steps with libfaketime, a `Date` header rewritten by a real proxy process on 127.0.0.1.
// Each test prints one "[repro]" line with what happened, so the same file run against an older
// build (KONCLI_TEST_BIN) gives the before/after table of docs/clock.md.
import { CoordinationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { sleep, until } from '../support/poll.js';
import { deleteWebhook, registerDownWebhook } from '../support/admission.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE = join(process.env.KONCLI_CLUSTER_DIR ?? join(REPO_ROOT, '.cluster'), 'state.json');
const state = () => JSON.parse(readFileSync(STATE, 'utf8')) as { server: string; bin: { kubectl: string } };
const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find(existsSync);

let ns: string;
let admin: string;
const koncli = (args: string[], env?: Record<string, string>) => runKoncli([...args, ...clusterArgs(admin, ns)], { timeoutMs: 90_000, env });
const repro = (kind: string, what: string) => process.stderr.write(`[repro] ${kind}: ${what}\n`);
const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** One line: the exit code, the JSON result's key facts, and the last stderr line on failure. */
function outcome(r: CliResult): string {
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    // not JSON
  }
  const facts = ['outcome', 'ttlSeconds', 'previousHolder', 'previousOwner', 'renewals', 'reason']
    .filter((k) => doc[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(doc[k])}`);
  const err = r.code !== 0 ? ` (${r.stderr.trim().split('\n').pop()?.slice(0, 400)})` : '';
  return `exit ${r.code}${facts.length ? ` ${facts.join(' ')}` : ''}${err}`;
}

function kubectl(args: string[], input?: string): Promise<CliResult> {
  const child = spawn(state().bin.kubectl, ['--kubeconfig', admin, '-n', ns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child, Date.now(), { input: input ?? '' });
}
async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const readLease = (name: string) => leases().readNamespacedLease({ name, namespace: ns });
/**
 * Until `holder` holds Lease `name`: a process's start-up takes seconds on a loaded machine, so a
 * fixed wait let the next step (a clock step, a webhook, a competitor) come before the claim.
 */
const heldBy = (name: string, holder: string, namespace = ns) =>
  until(
    `${holder} to hold ${name}`,
    async () =>
      (
        await leases()
          .readNamespacedLease({ name, namespace })
          .catch(() => undefined)
      )?.spec?.holderIdentity === holder,
    60_000,
  );

/** Patches a Lease spec as a client-go leader elector does (its own field manager, MicroTime). */
const patchLease = (name: string, spec: Record<string, unknown>, fieldManager = 'leader-elector') =>
  leases().patchNamespacedLease({ name, namespace: ns, body: { spec }, fieldManager }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

/** Renews `name` as `holder` every `everyMs` (renewTime only, as client-go does) until stopped. */
function renewLoop(name: string, everyMs: number): { stop: () => Promise<void> } {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      await patchLease(name, { renewTime: micro(Date.now()) });
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('clock-safety');
});

describe('1. a new claim takes its duration from the acquirer, never from a previous holder', () => {
  const stepDown = (name: string, now: number) =>
    `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: ${name}, namespace: ${ns}}\n` +
    `spec: {holderIdentity: "", leaseDurationSeconds: 1, acquireTime: "${micro(now - 60_000)}", renewTime: "${micro(now)}", leaseTransitions: 4}\n`;

  test('after client-go\'s step-down marker (holderIdentity "", leaseDurationSeconds 1), acquire holds for its own TTL', async () => {
    await kubectlOk(['apply', '-f', '-'], stepDown('shared', Date.now()));
    const a = await koncli(['lease', 'acquire', 'shared', '--holder', 'job-a', '--timeout', '0', '--json']);
    expect(a.code).toBe(0);
    await sleep(2000);
    const b = await koncli(['lease', 'acquire', 'shared', '--holder', 'job-b', '--timeout', '0', '--json']);
    repro('1 acquire', `job-a ${outcome(a)}; 2 s later job-b ${outcome(b)}`);
    expect(JSON.parse(a.stdout)).toMatchObject({ outcome: 'acquired', ttlSeconds: 300, transitions: 5, previousHolder: null });
    expect(b.code).toBe(3);
    expect((await readLease('shared')).spec).toMatchObject({ holderIdentity: 'job-a', leaseDurationSeconds: 300, leaseTransitions: 5 });
  });

  test('lease run after the step-down marker: its claim lasts its own --ttl default (15s) and nobody takes it meanwhile', async () => {
    await kubectlOk(['apply', '-f', '-'], stepDown('shared-run', Date.now()));
    // The command outlasts the other acquire by a wide margin: on a loaded machine a koncli start
    // can take seconds, and with `sleep 4` the run had sometimes ended before the other acquire read.
    const run = collect(spawnKoncli(['lease', 'run', 'shared-run', '--holder', 'runner', '--json', ...clusterArgs(admin, ns), '--', 'sleep', '12']));
    await heldBy('shared-run', 'runner');
    const during = await readLease('shared-run');
    const other = await koncli(['lease', 'acquire', 'shared-run', '--holder', 'klock', '--timeout', '0']);
    const r = await run;
    repro(
      '1 run',
      `lease run claimed leaseDurationSeconds ${during.spec?.leaseDurationSeconds}; another acquire during the run: exit ${other.code}; run ${outcome(r)}`,
    );
    expect(during.spec).toMatchObject({ holderIdentity: 'runner', leaseDurationSeconds: 15 });
    expect(other.code).toBe(3);
    expect(r.code).toBe(0);
  });
});

describe('2. elapsed time is monotonic: wall-clock steps (libfaketime) change nothing', () => {
  const faketime = (file: string) => ({
    LD_PRELOAD: LIBFAKETIME!,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: '1',
    DONT_FAKE_MONOTONIC: '1',
  });
  /** A command that runs at least `seconds`, then until `path` exists. */
  const untilFile = (path: string, seconds = 0) => ['sh', '-c', `sleep ${seconds}; while [ ! -e '${path}' ]; do sleep 0.1; done`];
  const stepFile = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'koncli-faketime-')), 'step');
    writeFileSync(file, '+0\n');
    return file;
  };
  /** koncli with the cluster flags after the command's own words (and before a `--`). */
  const start = (args: string[], env?: Record<string, string>): ChildProcess =>
    spawnKoncli([...args.slice(0, 3), ...clusterArgs(admin, ns), ...args.slice(3)], { env });

  test("libfaketime steps Node 24's Date.now() and leaves performance.now() alone", async () => {
    if (!LIBFAKETIME) return void process.stderr.write('SKIPPED: libfaketime not installed (Debian package faketime; .ci/run installs it)\n');
    const file = stepFile();
    const script = `const a=[Date.now(),performance.now()];require('fs').writeFileSync(${JSON.stringify(file)},'+120\\n');const b=[Date.now(),performance.now()];console.log(JSON.stringify([b[0]-a[0],b[1]-a[1]]))`;
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...faketime(file) }, stdio: ['pipe', 'pipe', 'pipe'] });
    const r = await collect(child);
    const [wall, mono] = JSON.parse(r.stdout) as number[];
    expect(wall).toBeGreaterThan(119_000);
    expect(mono).toBeLessThan(1000);
  });

  test('a waiter whose wall clock steps 120 s forward never takes a live lease', async () => {
    if (!LIBFAKETIME) return void process.stderr.write('SKIPPED: libfaketime not installed (Debian package faketime; .ci/run installs it)\n');
    // TTL 9 s: each renewal request may take 1 s (a third of the 3 s renew window); with 6 s (667 ms)
    // one run on this shared machine (load average > 100) lost the holder to its renew deadline.
    // The holder's command runs until the waiter is done (a fixed `sleep 13` ended first on a loaded
    // machine, and the waiter then rightly took the released lease).
    const file = stepFile();
    const holder = collect(start(['lease', 'run', 'step-fwd', '--holder', 'live', '--ttl', '9s', '--json', '--', ...untilFile(`${file}.done`)]));
    await heldBy('step-fwd', 'live');
    const waiter = collect(start(['lease', 'acquire', 'step-fwd', '--holder', 'stepped', '--wait', '--timeout', '9s', '--json'], faketime(file)));
    await sleep(2000);
    writeFileSync(file, '+120\n');
    const w = await waiter;
    writeFileSync(`${file}.done`, '');
    const h = await holder;
    repro('2 forward', `waiter ${outcome(w)}; holder ${outcome(h)}`);
    expect(w.code).toBe(3);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout)).toMatchObject({ outcome: 'completed' });
  });

  test('a holder whose wall clock steps 120 s backward keeps renewing, and nobody else gets the lease meanwhile', async () => {
    if (!LIBFAKETIME) return void process.stderr.write('SKIPPED: libfaketime not installed (Debian package faketime; .ci/run installs it)\n');
    const file = stepFile();
    // At least 12 s, and until the waiter is done (see above).
    const holder = collect(
      start(['lease', 'run', 'step-back', '--holder', 'stepped', '--ttl', '6s', '--json', '--', ...untilFile(`${file}.done`, 12)], faketime(file)),
    );
    await heldBy('step-back', 'stepped');
    writeFileSync(file, '-120\n');
    const w = await collect(start(['lease', 'acquire', 'step-back', '--holder', 'other', '--wait', '--timeout', '8s', '--json']));
    writeFileSync(`${file}.done`, '');
    const h = await holder;
    repro('2 backward', `holder ${outcome(h)}; waiter ${outcome(w)}`);
    expect(h.code).toBe(0);
    // 12 s at one renewal per 2 s.
    expect(JSON.parse(h.stdout).renewals).toBeGreaterThanOrEqual(4);
    expect(w.code).toBe(3);
  });
});

describe('2. (stop) a holder stepped backward is never stopped late', () => {
  test('its renewals failing (an admission webhook that is down), it stops its command at the renew deadline, not 120 s later', async () => {
    if (!LIBFAKETIME) return void process.stderr.write('SKIPPED: libfaketime not installed (Debian package faketime; .ci/run installs it)\n');
    const own = await freshNamespace('clock-stop');
    const file = join(mkdtempSync(join(tmpdir(), 'koncli-faketime-')), 'step');
    writeFileSync(file, '+0\n');
    const env = { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' };
    const holder = collect(
      spawnKoncli(
        ['lease', 'run', 'stop-late', ...clusterArgs(admin, own), '--holder', 'stepped', '--ttl', '6s', '--kill-after', '1s', '--json', '--', 'sleep', '60'],
        { env },
      ),
      Date.now(),
      { timeoutMs: 90_000 },
    );
    await heldBy('stop-late', 'stepped', own); // its claiming write went through before the clock steps and the writes fail
    writeFileSync(file, '-120\n');
    const webhook = await registerDownWebhook(`koncli-clock-stop-${own.slice(-6)}`, own);
    const failingSince = Date.now();
    try {
      const h = await holder;
      const after = Date.now() - failingSince;
      repro('2 stop', `holder ${outcome(h)}; ended ${after} ms after Lease writes started failing`);
      expect(h.code).toBe(4);
      // Its last successful renewal was before the writes failed: renew deadline (4 s) + kill delay
      // (1 s), with room for a loaded machine, and far from the 120 s a wall-clock deadline would add.
      expect(after).toBeLessThan(12_000);
    } finally {
      await deleteWebhook(webhook);
    }
  }, 120_000);
});

describe('3. any change of the claim is a renewal', () => {
  beforeAll(async () => {
    const install = await runKoncli(['crd', 'install', '--json', '--kubeconfig', admin], { timeoutMs: 90_000 });
    if (install.code !== 0) throw new Error(install.stderr);
  });

  test('a konductor Lease renewed by bumping status.renewals and moving status.expires (acquired unchanged) is never taken', async () => {
    const name = 'renewed-by-counter';
    // TTL 8 s, renewed every 1 s plus a kubectl run: with 4 s, kubectl on a loaded machine (load 49)
    // left the Lease unrenewed past its TTL, and the waiter rightly took it. A waiter that ignored the
    // counter would take it 8 s after first sight, well within its 20 s.
    const ttl = 8;
    await kubectlOk(['apply', '-f', '-'], `apiVersion: konductor.io/v1\nkind: Lease\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {ttl: ${ttl}s}\n`);
    const seconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const acquired = seconds(Date.now());
    const status = (renewals: number) =>
      JSON.stringify({ status: { holder: 'other-tool', acquired, expires: seconds(Date.now() + ttl * 1000), phase: 'Held', renewals } });
    const writeStatus = (renewals: number) =>
      kubectlOk(['patch', 'leases.konductor.io', name, '--subresource=status', '--type=merge', '--field-manager=other-tool', '-p', status(renewals)]);
    await writeStatus(0);
    let stopped = false;
    const renewer = (async () => {
      for (let n = 1; !stopped; n++) {
        await sleep(1000);
        await writeStatus(n);
      }
    })();
    const waiter = await koncli(['lease', 'acquire', name, '--kind', 'konductor', '--holder', 'waiter', '--wait', '--timeout', '20s', '--json']);
    stopped = true;
    await renewer;
    const holder = await kubectlOk(['get', 'leases.konductor.io', name, '-o', 'jsonpath={.status.holder}']);
    repro('3 konductor', `waiter ${outcome(waiter)}; holder afterwards ${holder}`);
    expect(waiter.code).toBe(3);
    expect(holder).toBe('other-tool');
  });
});

describe('4. claims with no server write time (no managedFields) can be taken once clearly dead, and busy says why', () => {
  const managedFields = async (kind: string, name: string) =>
    kubectlOk(['get', kind, name, '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields}']);

  test('a giantswarm lock annotated an hour ago with a 1 s TTL on a bare ConfigMap is taken by a one-shot', async () => {
    await kubectlOk(['create', 'configmap', 'target']);
    const value = JSON.stringify({
      owner: 'operator-v1',
      createdAt: new Date(Date.now() - 3600_000).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'),
      ttl: 1_000_000_000,
    });
    await kubectlOk(['annotate', 'configmap', 'target', `kubelock.giantswarm.io/ip-allocation=${value}`]);
    expect(await managedFields('configmap', 'target')).toBe('');
    const r = await koncli(['kubelock', 'annotate', 'configmap/target', '--lock', 'ip-allocation', '--owner', 'me', '--json']);
    repro('4 kubelock', outcome(r));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'acquired', previousOwner: 'operator-v1' });
  });

  test('a bare Lease whose renewTime is an hour old (5 s duration) is taken; a live one is busy with the reason and the time it can be taken', async () => {
    for (const name of ['restored-dead', 'restored-live']) {
      await kubectlOk(['create', '-f', '-'], `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: ${name}, namespace: ${ns}}\n`);
    }
    const hourAgo = Date.now() - 3600_000;
    await kubectlOk([
      'patch',
      'lease',
      'restored-dead',
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { holderIdentity: 'gone', leaseDurationSeconds: 5, acquireTime: micro(hourAgo), renewTime: micro(hourAgo), leaseTransitions: 2 },
      }),
    ]);
    const renewedAt = Date.now() - 20_000; // alive: renewed 20 s ago, for 30 s
    await kubectlOk([
      'patch',
      'lease',
      'restored-live',
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { holderIdentity: 'alive', leaseDurationSeconds: 30, acquireTime: micro(renewedAt), renewTime: micro(renewedAt), leaseTransitions: 2 },
      }),
    ]);
    expect(await managedFields('lease', 'restored-dead')).toBe('');
    const first = await koncli(['lease', 'acquire', 'restored-dead', '--holder', 'me', '--timeout', '0', '--json']);
    const live = await koncli(['lease', 'acquire', 'restored-live', '--holder', 'me', '--timeout', '0', '--json']);
    const again = await koncli(['lease', 'acquire', 'restored-live', '--holder', 'me', '--timeout', '0']);
    repro('4 lease', `dead: ${outcome(first)}; live: ${outcome(live)}; live again: ${outcome(again)}`);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ outcome: 'acquired', previousHolder: 'gone' });
    expect(live.code).toBe(3);
    const error = JSON.parse(live.stdout).error;
    // The rule behind the judgement is in --json (and at -v), not in the message.
    expect(error.rule).toMatch(/no managedFields/);
    expect(error.rule).toMatch(/writer's own expiry/);
    expect(error.judgedBy).toBe('writer');
    // From when: the writer's renewTime + 30 s + the 5 s allowed skew (up to 1 s later: the server's
    // Date has whole seconds), the same in every answer (a fresh process no longer says "expiring
    // within 30s" each time).
    const takeable = (text: string) => Date.parse(/ until (\S+) /.exec(text)![1]);
    expect(takeable(error.message) - (renewedAt + 35_000)).toBeGreaterThanOrEqual(0);
    expect(takeable(error.message) - (renewedAt + 35_000)).toBeLessThan(1500);
    expect(Math.abs(takeable(again.stderr) - takeable(error.message))).toBeLessThan(1500);
  });
});

describe('5. the server-clock rule is not fooled by a `Date` header from another clock', () => {
  let proxy: ChildProcess;
  let proxied: string;

  beforeAll(async () => {
    proxy = spawn(process.execPath, [join(REPO_ROOT, 'test', 'support', 'date-proxy.mjs'), state().server, STATE, '40000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((ok, fail) => {
      proxy.stdout!.on('data', (d: Buffer) => {
        const m = /listening (\d+)/.exec(String(d));
        if (m) ok(m[1]);
      });
      proxy.on('exit', () => fail(new Error('date proxy exited')));
    });
    proxied = join(mkdtempSync(join(tmpdir(), 'koncli-proxy-')), 'kubeconfig');
    writeFileSync(proxied, readFileSync(admin, 'utf8').replace(/server: .*/, `server: https://127.0.0.1:${port}`));
  });
  afterAll(() => proxy?.kill('SIGTERM'));

  test('through a proxy whose Date runs 40 s ahead, a one-shot never takes a live Lease renewed every 3 s (TTL 20 s)', async () => {
    const now = Date.now();
    const spec = (holder: string, at: number) =>
      `spec: {holderIdentity: ${holder}, leaseDurationSeconds: 20, acquireTime: "${micro(at)}", renewTime: "${micro(at)}", leaseTransitions: 0}`;
    await kubectlOk(
      ['apply', '--server-side', '--field-manager=leader-elector', '-f', '-'],
      `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: behind-proxy, namespace: ${ns}}\n${spec('leader-1', now)}\n`,
    );
    const renewer = renewLoop('behind-proxy', 3000);
    await sleep(1500);
    const oneShot = await runKoncli(
      ['lease', 'acquire', 'behind-proxy', '--holder', 'intruder', '--timeout', '0', '--json', '--kubeconfig', proxied, '-n', ns],
      { timeoutMs: 60_000 },
    );
    await renewer.stop();
    repro('5 proxy', `one-shot through the proxy: ${outcome(oneShot)}`);
    expect(oneShot.code).toBe(3);
    expect((await readLease('behind-proxy')).spec?.holderIdentity).toBe('leader-1');
  });
});
