// Issue 21's claim rows, on the real plane through the real CLI, for every lock kind (native
// Lease, konductor Lease, kube-lock semaphore, giantswarm kubelock annotation, koncli mutex). The faults are
// real: a finalizer and a delete made through the API, foreign JSON written through the API, and
// late or lost answers made by a TLS proxy on 127.0.0.1 (test/support/fault-proxy.ts).
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { readOrEmpty, until } from '../support/poll.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const FINALIZER = 'example.com/keep';
const KONDUCTOR = { group: 'konductor.io', version: 'v1', plural: 'leases' };

let ns: string;
let admin: string;
let dir: string;
let proxy: FaultProxy;
let viaProxy: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const custom = () => adminConfig().makeApiClient(CustomObjectsApi);
/** koncli with the cluster flags before any `--` (lease run's command follows it). */
const withCluster = (args: string[], kubeconfig = admin) => {
  const end = args.indexOf('--') === -1 ? args.length : args.indexOf('--');
  return [...args.slice(0, end), ...clusterArgs(kubeconfig, ns), ...args.slice(end)];
};
const koncli = (args: string[], kubeconfig = admin, timeoutMs = 90_000) => runKoncli(withCluster(args, kubeconfig), { timeoutMs });
/** koncli started in the background (a holder, a waiter), words split on spaces, the command after `--` as given; `stderr()` so far. */
function background(words: string, command: string[] = []) {
  const child = spawnKoncli(withCluster([...words.split(' '), ...(command.length ? ['--', ...command] : [])]));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return { done: collect(child), stderr: () => stderr };
}
const errorOf = (r: CliResult) => (JSON.parse(r.stdout) as { error: { kind: string; message: string; exitCode: number } }).error;
const microNow = () => new Date().toISOString().replace('Z', '000Z');

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('claim-safety');
  dir = mkdtempSync(join(tmpdir(), 'koncli-claims-'));
  proxy = await startFaultProxy();
  viaProxy = proxy.kubeconfig(dir, ns);
  const install = await runKoncli(['crd', 'install', '--kubeconfig', admin]);
  expect(install.code).toBe(0);
});

afterEach(() => proxy.clearRules());
afterAll(() => proxy?.close());

// ---- objects as other tools leave them

const createLease = (name: string, spec: Record<string, unknown> = {}, finalizers?: string[]) =>
  leases().createNamespacedLease({ namespace: ns, body: { metadata: { name, finalizers }, spec } });
const createConfigMap = (name: string, annotations: Record<string, string> = {}, finalizers?: string[]) =>
  core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, annotations, finalizers } } });
const createKonductor = (name: string, finalizers?: string[]) =>
  custom().createNamespacedCustomObject({
    ...KONDUCTOR,
    namespace: ns,
    body: { apiVersion: 'konductor.io/v1', kind: 'Lease', metadata: { name, finalizers }, spec: { ttl: '8s' } },
  });
/** A free Lease of `kind` ('native' or 'konductor'). */
const createLeaseOf = (kind: string, name: string) => (kind === 'native' ? createLease(name) : createKonductor(name));
const holderOf = async (name: string) => {
  try {
    return (await leases().readNamespacedLease({ name, namespace: ns })).spec?.holderIdentity ?? '';
  } catch {
    return undefined;
  }
};
const annotationOf = async (name: string, key: string) => (await core().readNamespacedConfigMap({ name, namespace: ns })).metadata?.annotations?.[key];
const konductorHolder = async (name: string) =>
  ((await custom().getNamespacedCustomObject({ ...KONDUCTOR, namespace: ns, name })) as { status?: { holder?: string } }).status?.holder ?? '';

/** Deletes with a finalizer in place: the object stays, terminating (deletionTimestamp set), until the finalizer goes. */
async function terminate(kind: 'lease' | 'configmap' | 'konductor', name: string) {
  if (kind === 'lease') await leases().deleteNamespacedLease({ name, namespace: ns });
  else if (kind === 'configmap') await core().deleteNamespacedConfigMap({ name, namespace: ns });
  else await custom().deleteNamespacedCustomObject({ ...KONDUCTOR, namespace: ns, name });
}

// ---- intervals of supervised commands

/** A command that logs when it starts and ends (also when stopped by SIGTERM) into `log`, as `<tag> start|end <epoch ns>`. */
const logged = (log: string, tag: string, seconds: number) => [
  'sh',
  '-c',
  `trap 'echo "${tag} end $(date +%s%N)" >> ${log}; exit 143' TERM; echo "${tag} start $(date +%s%N)" >> ${log}; sleep ${seconds} & wait $!; echo "${tag} end $(date +%s%N)" >> ${log}`,
];
function intervals(log: string): Record<string, { start: number; end?: number }> {
  const out: Record<string, { start: number; end?: number }> = {};
  for (const line of readOrEmpty(log).split('\n').filter(Boolean)) {
    const [tag, what, ns] = line.split(' ');
    const ms = Number(BigInt(ns) / 1_000_000n);
    if (what === 'start') out[tag] = { start: ms };
    else out[tag].end = ms;
  }
  return out;
}

describe('an object being deleted (a finalizer holds it, deletionTimestamp set) gets no claim, for every kind', () => {
  test('native Lease: lease acquire and lease run exit 10 naming it, nothing written, the command never starts', async () => {
    await createLease('term-lease', {}, [FINALIZER]);
    await terminate('lease', 'term-lease');
    const acquired = await koncli(['lease', 'acquire', 'term-lease', '--holder', 'a', '--timeout', '0', '--json']);
    expect(acquired.code).toBe(10);
    expect(errorOf(acquired).message).toMatch(/lease term-lease .* is being deleted \(deletionTimestamp .*finalizer example.com\/keep\)/);
    expect(acquired.stderr.trim().split('\n')).toHaveLength(1);
    const log = join(dir, 'term-lease.log');
    const ran = await koncli(['lease', 'run', 'term-lease', '--holder', 'b', '--', ...logged(log, 'b', 1)]);
    expect(ran.code).toBe(10);
    expect(readOrEmpty(log)).toBe('');
    expect(await holderOf('term-lease')).toBe('');
  });

  test('konductor Lease: lease acquire and lease run --kind konductor exit 10, nothing written, the command never starts', async () => {
    await createKonductor('term-konductor', [FINALIZER]);
    await terminate('konductor', 'term-konductor');
    const acquired = await koncli(['lease', 'acquire', 'term-konductor', '--kind', 'konductor', '--holder', 'a', '--timeout', '0', '--json']);
    expect(acquired.code).toBe(10);
    expect(errorOf(acquired).message).toMatch(/is being deleted/);
    const log = join(dir, 'term-konductor.log');
    const ran = await koncli(['lease', 'run', 'term-konductor', '--kind', 'konductor', '--holder', 'b', '--', ...logged(log, 'b', 1)]);
    expect(ran.code).toBe(10);
    expect(readOrEmpty(log)).toBe('');
    expect(await konductorHolder('term-konductor')).toBe('');
  });

  test('semaphore lock (one-shot and --wait) exits 10, the kube-lock annotation untouched', async () => {
    const value = '{"max":2,"holders":{}}';
    await createConfigMap('term-sem', { 'kube-lock': value }, [FINALIZER]);
    await terminate('configmap', 'term-sem');
    for (const wait of [
      ['--timeout', '0'],
      ['--wait', '--timeout', '5s'],
    ]) {
      const locked = await koncli(['semaphore', 'lock', 'term-sem', '--holder', 'a', ...wait, '--json']);
      expect(locked.code).toBe(10);
      expect(errorOf(locked).message).toMatch(/semaphore term-sem .*is being deleted/);
    }
    expect(await annotationOf('term-sem', 'kube-lock')).toBe(value);
  });

  test('kubelock annotate exits 10, no annotation written', async () => {
    await createConfigMap('term-kl', {}, [FINALIZER]);
    await terminate('configmap', 'term-kl');
    const taken = await koncli(['kubelock', 'annotate', 'configmap/term-kl', '--lock', 'deploy', '--owner', 'a', '--json']);
    expect(taken.code).toBe(10);
    expect(errorOf(taken).message).toMatch(/configmaps\/term-kl .*is being deleted/);
    expect(await annotationOf('term-kl', 'kubelock.giantswarm.io/deploy')).toBeUndefined();
  });
});

describe('a lock deleted during a hold is not free', () => {
  test.each(['native', 'konductor'])(
    '%s Lease: the holder is lost (exit 4, command stopped), the waiter starts only after the last claim would have expired: no overlap',
    async (kind) => {
      const name = `deleted-${kind}`;
      const log = join(dir, `${name}.log`);
      const held = background(`lease run ${name} --kind ${kind} --holder a --ttl 6s`, logged(log, 'a', 60));
      await until('a runs', () => intervals(log).a !== undefined, 30_000);
      const waiter = background(`lease run ${name} --kind ${kind} --holder b --ttl 6s --wait --timeout 60s`, logged(log, 'b', 1));
      await until('b is queued', async () => (await koncli(['lease', 'status', name, '--kind', kind, '--json'])).stdout.includes('"b"'), 30_000);
      const deletedAt = Date.now();
      if (kind === 'native') await leases().deleteNamespacedLease({ name, namespace: ns });
      else await custom().deleteNamespacedCustomObject({ ...KONDUCTOR, namespace: ns, name });
      const [a, b] = await Promise.all([held.done, waiter.done]);
      expect(a.code).toBe(4);
      expect(a.stderr).toMatch(/lease lost: lease .* was deleted/);
      expect(b.code).toBe(0);
      const { a: ia, b: ib } = intervals(log);
      expect(ia.end).toBeDefined();
      expect(ib.start).toBeGreaterThan(ia.end!);
      // b waited for a's claim: not the instant the Lease went.
      expect(ib.start - deletedAt).toBeGreaterThan(2000);
    },
    120_000,
  );

  test("semaphore: a waiter with --create counts the deleted semaphore's holder until its TTL has run out", async () => {
    const locked = await koncli(['semaphore', 'lock', 'deleted-sem', '--holder', 'a', '--create', '--ttl', '6s', '--timeout', '0']);
    expect(locked.code).toBe(0);
    const lockedAt = Date.now();
    const waiter = background('semaphore lock deleted-sem --holder b --create --ttl 6s --wait --timeout 60s --verbose');
    await until('b watches', () => waiter.stderr().includes('WATCH'), 30_000);
    await core().deleteNamespacedConfigMap({ name: 'deleted-sem', namespace: ns });
    const b = await waiter.done;
    expect(b.code).toBe(0);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(6000);
  }, 90_000);

  test('kubelock: the object re-created meanwhile (another uid) does not free the lock before it would have expired', async () => {
    await createConfigMap('deleted-kl');
    const taken = await koncli(['kubelock', 'annotate', 'configmap/deleted-kl', '--lock', 'deploy', '--owner', 'a', '--ttl', '6s']);
    expect(taken.code).toBe(0);
    const takenAt = Date.now();
    const waiter = background('kubelock annotate configmap/deleted-kl --lock deploy --owner b --ttl 6s --wait --timeout 60s --verbose');
    await until('b watches', () => waiter.stderr().includes('WATCH'), 30_000);
    await core().deleteNamespacedConfigMap({ name: 'deleted-kl', namespace: ns });
    await createConfigMap('deleted-kl');
    const b = await waiter.done;
    // Either the waiter saw the object go (not found, exit 6) or it took the new object's lock only after a's would have expired.
    if (b.code === 0) expect(Date.now() - takenAt).toBeGreaterThanOrEqual(6000);
    else expect(b.code).toBe(6);
  }, 90_000);

  test('mutex: a waiter does not take a mutex deleted during a hold before its last claim would have expired', async () => {
    const locked = await koncli(['mutex', 'lock', 'deleted-mutex', '--holder', 'a', '--ttl', '6s']);
    expect(locked.code).toBe(0);
    const lockedAt = Date.now();
    const waiter = background('mutex lock deleted-mutex --holder b --ttl 6s --timeout 60s --verbose --json');
    await until('b watches', () => waiter.stderr().includes('WATCH'), 30_000);
    await core().deleteNamespacedConfigMap({ name: 'deleted-mutex', namespace: ns });
    const b = await waiter.done;
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ holder: 'b', outcome: 'acquired' });
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(6000);
  }, 90_000);
});

describe('foreign data is read as its writer reads it, or refused', () => {
  test('kube-lock JSON with keys Go folds together ({"max":3,"Max":1}) or repeats: exit 9, nothing written', async () => {
    for (const [name, value] of [
      ['fold-sem', '{"max":3,"Max":1,"holders":{"a":{"date":"2026-01-01T00:00:00Z","reason":""}}}'],
      ['repeat-sem', '{"max":3,"holders":{"a":{"date":"","reason":""}},"holders":{}}'],
    ]) {
      await createConfigMap(name, { 'kube-lock': value });
      const locked = await koncli(['semaphore', 'lock', name, '--holder', 'b', '--timeout', '0', '--json']);
      expect(locked.code).toBe(9);
      expect(errorOf(locked).message).toMatch(/Go/);
      expect(await annotationOf(name, 'kube-lock')).toBe(value);
    }
  });

  test('kubelock JSON with "owner" and "Owner": exit 9, nothing written', async () => {
    const value = '{"owner":"a","Owner":"b","createdAt":"2026-01-01T00:00:00Z","ttl":1000000000}';
    await createConfigMap('fold-kl', { 'kubelock.giantswarm.io/deploy': value });
    const taken = await koncli(['kubelock', 'annotate', 'configmap/fold-kl', '--lock', 'deploy', '--owner', 'c', '--json']);
    expect(taken.code).toBe(9);
    expect(await annotationOf('fold-kl', 'kubelock.giantswarm.io/deploy')).toBe(value);
  });

  test('a Lease without leaseDurationSeconds is held for 5m by status, one-shot and --wait alike', async () => {
    await createLease('no-duration', { holderIdentity: 'other-tool', acquireTime: microNow(), renewTime: microNow() });
    const status = await koncli(['lease', 'status', 'no-duration', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'Held', ttlSeconds: 300, ttlUnset: true });
    const text = await koncli(['lease', 'status', 'no-duration']);
    expect(text.stdout).toMatch(/TTL:\s+5m \(unset by its holder/);
    expect((await koncli(['lease', 'acquire', 'no-duration', '--holder', 'b', '--timeout', '0'])).code).toBe(3);
    expect((await koncli(['lease', 'acquire', 'no-duration', '--holder', 'b', '--wait', '--timeout', '3s'])).code).toBe(3);
    expect(await holderOf('no-duration')).toBe('other-tool');
  });
});

describe('a claim counts from when its write was sent (the answer delayed by a proxy)', () => {
  test.each(['native', 'konductor'])(
    '%s: lease acquire --ttl 8s whose answer comes 6.5s late: exit 8, not acquired, the lease given back',
    async (kind) => {
      const name = `late-acquire-${kind}`;
      await createLeaseOf(kind, name);
      proxy.rule({ method: 'PATCH', path: new RegExp(`/leases/${name}(/status)?\\b`) }, { delayAnswerMs: 6500 }, 1);
      const late = await koncli(['lease', 'acquire', name, '--kind', kind, '--holder', 'a', '--ttl', '8s', '--timeout', '0', '--json'], viaProxy);
      expect(late.code).toBe(8);
      expect(errorOf(late).message).toMatch(/answered the claiming write 6\.\ds after it was sent.*not counted; gave the lease back/);
      expect(await (kind === 'native' ? holderOf(name) : konductorHolder(name))).toBe('');
      expect((await koncli(['lease', 'acquire', name, '--kind', kind, '--holder', 'b', '--timeout', '0'])).code).toBe(0);
    },
    90_000,
  );

  test.each(['native', 'konductor'])(
    '%s: lease run whose acquiring answer comes late never starts its command',
    async (kind) => {
      const name = `late-run-${kind}`;
      await createLeaseOf(kind, name);
      const log = join(dir, `${name}.log`);
      proxy.rule({ method: 'PATCH', path: new RegExp(`/leases/${name}(/status)?\\b`) }, { delayAnswerMs: 6500 }, 1);
      const ran = await koncli(['lease', 'run', name, '--kind', kind, '--holder', 'a', '--ttl', '8s', '--', ...logged(log, 'a', 1)], viaProxy);
      expect(ran.code).toBe(8);
      expect(ran.stderr).toMatch(/not counted/);
      expect(readOrEmpty(log)).toBe('');
    },
    90_000,
  );

  test('semaphore lock --ttl 8s and kubelock annotate --ttl 8s answered late: exit 8, slot and lock given back', async () => {
    await createConfigMap('late-sem', { 'kube-lock': '{"max":1,"holders":{}}' });
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/late-sem\b/ }, { delayAnswerMs: 6500 }, 1);
    const sem = await koncli(['semaphore', 'lock', 'late-sem', '--holder', 'a', '--ttl', '8s', '--timeout', '0', '--json'], viaProxy);
    expect(sem.code).toBe(8);
    expect(errorOf(sem).message).toMatch(/not counted; gave the slot back/);
    expect(JSON.parse((await annotationOf('late-sem', 'kube-lock'))!)).toMatchObject({ holders: {} });

    await createConfigMap('late-kl');
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/late-kl\b/ }, { delayAnswerMs: 6500 }, 1);
    const kl = await koncli(['kubelock', 'annotate', 'configmap/late-kl', '--lock', 'deploy', '--owner', 'a', '--ttl', '8s', '--json'], viaProxy);
    expect(kl.code).toBe(8);
    expect(errorOf(kl).message).toMatch(/not counted; gave the lock back/);
    expect(await annotationOf('late-kl', 'kubelock.giantswarm.io/deploy')).toBeUndefined();
  }, 90_000);
  test('mutex lock --ttl 8s answered late: exit 8, the claim given back, the next locker takes it at once', async () => {
    expect((await koncli(['mutex', 'create', 'late-mutex'])).code).toBe(0);
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/late-mutex\b/ }, { delayAnswerMs: 6500 }, 1);
    const late = await koncli(['mutex', 'lock', 'late-mutex', '--holder', 'a', '--ttl', '8s', '--json'], viaProxy);
    expect(late.code).toBe(8);
    expect(errorOf(late).message).toMatch(
      /^mutex late-mutex: the API server answered the claiming write 6\.\ds after it was sent.*not counted; gave it back; try again$/,
    );
    expect(JSON.parse((await annotationOf('late-mutex', 'koncli.dev/mutex'))!)).toMatchObject({ holder: null });
    expect((await koncli(['mutex', 'lock', 'late-mutex', '--holder', 'b', '--ttl', '8s'])).code).toBe(0);
  }, 90_000);
});

describe('a write whose answer was lost is resolved by a read (the proxy lets it land, then resets)', () => {
  test('semaphore unlock and kubelock annotate --release that landed exit 0', async () => {
    await createConfigMap('lost-sem', { 'kube-lock': '{"max":1,"holders":{"a":{"date":"2026-01-01T00:00:00Z","reason":""}}}' });
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/lost-sem\b/ }, { loseAnswer: 'reset' }, 1);
    const unlocked = await koncli(['semaphore', 'unlock', 'lost-sem', '--holder', 'a'], viaProxy);
    expect(unlocked.code).toBe(0);
    expect(JSON.parse((await annotationOf('lost-sem', 'kube-lock'))!)).toMatchObject({ holders: {} });

    await createConfigMap('lost-kl');
    expect((await koncli(['kubelock', 'annotate', 'configmap/lost-kl', '--lock', 'deploy', '--owner', 'a'])).code).toBe(0);
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/lost-kl\b/ }, { loseAnswer: 'reset' }, 1);
    const released = await koncli(['kubelock', 'annotate', 'configmap/lost-kl', '--lock', 'deploy', '--owner', 'a', '--release'], viaProxy);
    expect(released.code).toBe(0);
    expect(await annotationOf('lost-kl', 'kubelock.giantswarm.io/deploy')).toBeUndefined();
    expect(proxy.seen.filter((r) => r.fault === 'loseAnswer')).toHaveLength(2);
  }, 90_000);

  test('mutex unlock --force that landed says broken (not "nothing to break") and records its Event', async () => {
    expect((await koncli(['mutex', 'lock', 'lost-mutex', '--holder', 'b', '--ttl', '60s'])).code).toBe(0);
    proxy.rule({ method: 'PATCH', path: /\/configmaps\/lost-mutex\b/ }, { loseAnswer: 'reset' }, 1);
    const forced = await koncli(['mutex', 'unlock', 'lost-mutex', '--holder', 'ops', '--force', '--if-holder', 'b', '--json'], viaProxy);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ outcome: 'broken', previousHolder: 'b' });
    expect(JSON.parse((await annotationOf('lost-mutex', 'koncli.dev/mutex'))!)).toMatchObject({ holder: null });
    expect(proxy.seen.filter((r) => r.fault === 'loseAnswer' && r.path.includes('/lost-mutex'))).toHaveLength(1);
    const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=lost-mutex' });
    expect(events.items.map((e) => e.reason)).toContain('ForceUnlocked');
  }, 90_000);

  test.each(['native', 'konductor'])(
    '%s: lease release --force that landed says released and records its Event',
    async (kind) => {
      const name = `lost-force-${kind}`;
      expect((await koncli(['lease', 'acquire', name, '--kind', kind, '--holder', 'b', '--ttl', '60s', '--timeout', '0'])).code).toBe(0);
      proxy.rule({ method: 'PATCH', path: new RegExp(`/leases/${name}(/status)?\\b`) }, { loseAnswer: 'reset' }, 1);
      const forced = await koncli(['lease', 'release', name, '--kind', kind, '--holder', 'ops', '--force', '--json'], viaProxy);
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({ outcome: 'released', previousHolder: 'b', forced: true });
      const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
      expect(events.items.map((e) => e.reason)).toContain('ForceReleased');
    },
    90_000,
  );
});
