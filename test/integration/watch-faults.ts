// Watches under faults made for real, for every lock kind's waiters (and `lease run`'s holder),
// through test/support/fault-proxy.ts between koncli and the real API server:
// - a watch event that names another object (injected into the live stream: another object of
//   the kind, or the watched name with another uid) changes nothing: no write to the other
//   object, no false "acquired", the holder is not declared lost;
// - a connection that goes silent (frozen: no byte, no FIN, no RST) is noticed within
//   DEAD_CONNECTION_NOTICED_MS: a waiter still takes the lock when it is released meanwhile;
// - `--timeout` bounds the whole command when the API server no longer answers at all: exit 3
//   (busy) within the timeout plus WAIT_DEADLINE_GRACE_MS and WAIT_CLEANUP_MS, never 8 later.
// The holder and the releases go straight to the API server (the plane's admin kubeconfig).
//
// The suite is split over two test files (watch-faults-lease.test.ts: the Lease kinds and `lease
// run`; watch-faults-configmap.test.ts: semaphore and kubelock), so that jest's workers run them side
// by side: each file has its own namespace and proxy. Both run on both builds (integration project).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEAD_CONNECTION_NOTICED_MS, WAIT_CLEANUP_MS, WAIT_DEADLINE_GRACE_MS } from '../../src/core/timing.js';
import { kubectlPath, runCommand } from '../support/access.js';
import { collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { sleep, until } from '../support/poll.js';
import { adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let proxy: FaultProxy;
let viaProxy: string;
const admin = () => adminKubeconfigPath();

/** One lock kind as the CLI drives it; `name` is the lock's object. */
interface LockKind {
  title: string;
  /** The kubectl resource of the object and the path of its watch. */
  resource: string;
  watchPath: RegExp;
  prepare(name: string): Promise<void>;
  take(name: string, holder: string, extra?: string[]): string[];
  release(name: string, holder: string): string[];
  holderOf(obj: Raw): string | undefined;
}

type Raw = { metadata: { name: string; namespace: string; uid: string; resourceVersion: string; annotations?: Record<string, string> }; [k: string]: unknown };

const kubectl = (...args: string[]) => runCommand(kubectlPath(), ['--kubeconfig', admin(), '-n', ns, ...args]);
async function read(resource: string, name: string): Promise<Raw> {
  const r = await kubectl('get', resource, name, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl get ${resource} ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Raw;
}

const leaseKind = (kind: 'native' | 'konductor'): LockKind => ({
  title: kind === 'native' ? 'lease (coordination.k8s.io/v1)' : 'lease --kind konductor (konductor.io/v1)',
  resource: kind === 'native' ? 'leases.coordination.k8s.io' : 'leases.konductor.io',
  watchPath: kind === 'native' ? /\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases\?/ : /\/apis\/konductor\.io\/v1\/namespaces\/[^/]+\/leases\?/,
  prepare: async () => {},
  take: (name, holder, extra = ['--timeout', '0']) => ['lease', 'acquire', name, '--kind', kind, '--holder', holder, '--ttl', '1h', ...extra],
  release: (name, holder) => ['lease', 'release', name, '--kind', kind, '--holder', holder],
  holderOf: (obj) =>
    kind === 'native'
      ? ((obj.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? undefined)
      : ((obj.status as { holder?: string } | undefined)?.holder ?? undefined),
});

/** Every lock kind, by name; `lease run` applies to the first two. */
export const KINDS: Record<'native' | 'konductor' | 'semaphore' | 'kubelock', LockKind> = {
  native: leaseKind('native'),
  konductor: leaseKind('konductor'),
  semaphore: {
    title: 'semaphore (kube-lock ConfigMap)',
    resource: 'configmaps',
    watchPath: /\/api\/v1\/namespaces\/[^/]+\/configmaps\?/,
    prepare: async () => {},
    take: (name, holder, extra = []) => ['semaphore', 'lock', name, '--holder', holder, '--create', ...extra],
    release: (name, holder) => ['semaphore', 'unlock', name, '--holder', holder],
    holderOf: (obj) => Object.keys((JSON.parse(obj.metadata.annotations?.['kube-lock'] ?? '{}') as { holders?: object }).holders ?? {})[0],
  },
  kubelock: {
    title: 'kubelock (giantswarm annotation)',
    resource: 'configmaps',
    watchPath: /\/api\/v1\/namespaces\/[^/]+\/configmaps\?/,
    prepare: async (name) => {
      const r = await kubectl('create', 'configmap', name, '--from-literal=keep=me');
      if (r.code !== 0) throw new Error(r.stderr);
    },
    take: (name, holder, extra = []) => ['kubelock', 'annotate', `configmap/${name}`, '--lock', 'deploy', '--owner', holder, '--ttl', '1h', ...extra],
    release: (name, holder) => ['kubelock', 'annotate', `configmap/${name}`, '--lock', 'deploy', '--owner', holder, '--release'],
    holderOf: (obj) => (JSON.parse(obj.metadata.annotations?.['kubelock.giantswarm.io/deploy'] ?? '{}') as { owner?: string }).owner,
  },
};

const direct = (args: string[]) => runKoncli([...args, '--kubeconfig', admin(), '-n', ns]);
async function ok(args: string[]): Promise<CliResult> {
  const r = await direct(args);
  if (r.code !== 0) throw new Error(`koncli ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

let seq = 0;
/** A fresh lock object of `kind`, held by "holder-a" (taken straight from the API server). */
async function heldLock(kind: LockKind, prefix: string): Promise<string> {
  const name = `${prefix}-${++seq}`;
  await kind.prepare(name);
  await ok(kind.take(name, 'holder-a'));
  return name;
}

/** Starts a waiter through the proxy (-v) and resolves once its watch stream is open through the proxy. */
async function waiterThroughProxy(kind: LockKind, name: string, timeout: string) {
  const openBefore = proxy.watches({ watch: true, path: kind.watchPath });
  const started = Date.now();
  const child = spawnKoncli([...kind.take(name, 'holder-b', ['--timeout', timeout]), '--json', '-v', '--kubeconfig', viaProxy, '-n', ns]);
  const done = collect(child, started, { timeoutMs: 170_000 });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  await until(
    'the waiter watches through the proxy',
    () => proxy.watches({ watch: true, path: kind.watchPath }) > openBefore || child.exitCode !== null,
    30_000,
  );
  if (child.exitCode !== null) throw new Error(`the waiter exited early: ${stderr}`);
  return { child, done, started, stderr: () => stderr };
}

/**
 * Freezes every connection through the proxy, releases `name` and waits for the waiter: it must take
 * the lock within the documented bound (plus what a loaded machine adds to a process's exit). Returns
 * how long after the release it exited, in ms.
 */
async function releasedThroughFrozen(kind: LockKind, name: string, waiter: Awaited<ReturnType<typeof waiterThroughProxy>>): Promise<number> {
  expect(proxy.freezeAll()).toBeGreaterThanOrEqual(1);
  await ok(kind.release(name, 'holder-a'));
  const releasedAt = Date.now();
  const r = await waiter.done;
  const noticedMs = Date.now() - releasedAt;
  expect(r.stderr).not.toMatch(/koncli: error/);
  expect(r.code).toBe(0);
  expect(kind.holderOf(await read(kind.resource, name))).toBe('holder-b');
  expect(noticedMs).toBeLessThan(DEAD_CONNECTION_NOTICED_MS + 5000);
  return noticedMs;
}

/**
 * Registers the suite for `kinds` (their waiters) and `runKinds` (`lease run` holders: Lease kinds
 * only), in this test file's own namespace and behind its own fault proxy.
 */
/** Per test: a waiter's wait is bounded by 90–120 s; the project's 120 s default is tight on a loaded machine. */
const TEST_MS = 150_000;

export function describeWatchFaults(kinds: LockKind[], runKinds: LockKind[]): void {
  beforeAll(async () => {
    ns = await freshNamespace('watch-faults');
    const install = await runKoncli(['crd', 'install', '--kubeconfig', admin()]);
    if (install.code !== 0) throw new Error(`crd install: ${install.stderr}`);
    proxy = await startFaultProxy();
    viaProxy = proxy.kubeconfig(mkdtempSync(join(tmpdir(), 'koncli-watch-faults-')), ns);
  });
  afterEach(() => proxy.clearRules());
  afterAll(() => proxy.close());

  describe.each(kinds)('$title', (kind) => {
    test(
      'an injected event for another object, or for the same name with another uid, changes nothing',
      async () => {
        const name = await heldLock(kind, 'inj');
        // Another object of the same kind, really free on the server (taken and released).
        const other = await heldLock(kind, 'other');
        await ok(kind.release(other, 'holder-a'));
        const otherBefore = await read(kind.resource, other);
        const waiter = await waiterThroughProxy(kind, name, '120s');
        const held = await read(kind.resource, name);
        // What the original fault delivered: the other object's real, free state...
        const foreign = { type: 'MODIFIED', object: otherBefore };
        // ...and the same name and current resourceVersion with another uid: free, and writable if believed.
        const forged = {
          type: 'MODIFIED',
          object: { ...otherBefore, metadata: { ...otherBefore.metadata, name, uid: 'forged-uid', resourceVersion: held.metadata.resourceVersion } },
        };
        expect(proxy.inject({ watch: true, path: kind.watchPath }, JSON.stringify(foreign))).toBeGreaterThanOrEqual(1);
        expect(proxy.inject({ watch: true, path: kind.watchPath }, JSON.stringify(forged))).toBeGreaterThanOrEqual(1);
        await sleep(3000); // time to act on them, if it were going to
        expect(waiter.child.exitCode).toBe(null);
        expect((await read(kind.resource, other)).metadata.resourceVersion).toBe(otherBefore.metadata.resourceVersion);
        const still = await read(kind.resource, name);
        expect(kind.holderOf(still)).toBe('holder-a');
        expect((waiter.stderr().match(/ignored a MODIFIED watch event/g) ?? []).length).toBe(2); // counted at -v
        // The watch stays in use: the real release is seen and taken.
        await ok(kind.release(name, 'holder-a'));
        const r = await waiter.done;
        expect(r.stderr).not.toMatch(/koncli: error/);
        expect(r.code).toBe(0);
        expect(kind.holderOf(await read(kind.resource, name))).toBe('holder-b');
      },
      TEST_MS,
    );

    test(
      `a waiter whose connection froze still takes the lock when it is released, within ${DEAD_CONNECTION_NOTICED_MS / 1000}s`,
      async () => {
        const name = await heldLock(kind, 'frozen');
        const waiter = await waiterThroughProxy(kind, name, '90s');
        await sleep(500);
        const noticedMs = await releasedThroughFrozen(kind, name, waiter);
        console.log(`${kind.title}: release noticed through a frozen connection after ${noticedMs} ms`);
      },
      TEST_MS,
    );

    test(
      '…also when the read that checks the silent watch is never answered: re-opened on a fresh connection',
      async () => {
        const name = await heldLock(kind, 'unanswered');
        const waiter = await waiterThroughProxy(kind, name, '90s');
        await sleep(500);
        // The next GET of the object (the silence check's read) is accepted and never answered.
        proxy.rule({ method: 'GET', watch: false, path: new RegExp(`/${name}$`) }, { hang: true }, 1);
        const noticedMs = await releasedThroughFrozen(kind, name, waiter);
        expect(proxy.seen.some((s) => s.fault === 'hang' && s.path.endsWith(`/${name}`))).toBe(true);
        console.log(`${kind.title}: release noticed through a frozen connection and an unanswered check after ${noticedMs} ms`);
      },
      TEST_MS,
    );

    test(
      '--timeout bounds the whole wait when the API server answers nothing any more: exit 3, not 8 later',
      async () => {
        const name = await heldLock(kind, 'dead');
        const timeoutMs = 15_000;
        const waiter = await waiterThroughProxy(kind, name, `${timeoutMs / 1000}s`);
        proxy.rule({}, { hang: true }); // new connections are accepted and never answered
        expect(proxy.freezeAll()).toBeGreaterThanOrEqual(1); // the open ones go silent
        const r = await waiter.done;
        expect(r.code).toBe(3);
        expect(JSON.parse(r.stdout).error.kind).toBe('busy');
        // Started before the wait's clock (process start-up included): the timeout, the grace for an
        // answer in flight, the bounded cleanup, and a loaded machine's exit.
        expect(r.ms).toBeLessThan(timeoutMs + WAIT_DEADLINE_GRACE_MS + WAIT_CLEANUP_MS + 5000);
        console.log(`${kind.title}: --timeout ${timeoutMs / 1000}s with a dead connection exited ${r.code} after ${r.ms} ms`);
      },
      TEST_MS,
    );
  });

  if (runKinds.length)
    describe.each(runKinds)('lease run $title', (kind) => {
      test(
        'a holder is not declared lost by events for another object or another uid',
        async () => {
          const name = `run-${++seq}`;
          const other = await heldLock(kind, 'intruder');
          const kindFlag = kind.resource === 'leases.konductor.io' ? 'konductor' : 'native';
          const started = Date.now();
          const child = spawnKoncli([
            'lease',
            'run',
            name,
            '--kind',
            kindFlag,
            '--holder',
            'runner',
            '--ttl',
            '15s',
            '-v',
            '--kubeconfig',
            viaProxy,
            '-n',
            ns,
            '--',
            'sleep',
            '8',
          ]);
          const done = collect(child, started, { timeoutMs: 120_000 });
          let stderr = '';
          child.stderr?.on('data', (d) => (stderr += d));
          await until('the holder watches through the proxy', () => proxy.watches({ watch: true, path: kind.watchPath }) >= 1 && /WATCH/.test(stderr), 30_000);
          // Held by holder-a, and newer than anything the holder has seen (else it would be dropped as stale).
          const seen = await read(kind.resource, other);
          const intruder = { ...seen, metadata: { ...seen.metadata, resourceVersion: '999999999' } };
          const forged = { ...intruder, metadata: { ...intruder.metadata, name, uid: 'forged-uid' } };
          for (const object of [intruder, forged])
            expect(proxy.inject({ watch: true, path: kind.watchPath }, JSON.stringify({ type: 'MODIFIED', object }))).toBeGreaterThanOrEqual(1);
          const r = await done;
          expect(r.stderr).not.toMatch(/lost/);
          expect(r.code).toBe(0);
          expect(r.stderr).toMatch(/ignored a MODIFIED watch event/);
        },
        TEST_MS,
      );
    });
}
