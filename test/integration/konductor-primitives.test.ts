// `koncli mutex|once|rwmutex|barrier|waitgroup|gate … --kind konductor` on the real API server through the real CLI: the
// konductor.io/v1 Mutex, Once, RWMutex, Barrier, WaitGroup and Gate CRDs from `koncli crd install`, objects applied with kubectl from
// konductor's docs/api examples, a status written by another konductor writer, contention between
// concurrent `mutex run`s, and corrupt data refused (exit 9, nothing written).
import { CustomObjectsApi } from '@kubernetes/client-node';
import { join } from 'node:path';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { checkExclusion, cleanup, linesOf, sectionScript, startKoncli, workDir } from '../reliability/support.js';
import { kubectlPath, runCommand } from '../support/access.js';
import { adminConfig, adminKubeconfigPath, freshNamespace, expectServerStampedRule } from './helpers.js';

let ns: string;
let admin: string;
const K = ['--kind', 'konductor'];
/** koncli with --kind konductor and the cluster flags, both before a `--` (what follows it is the command's). */
const koncli = (...args: string[]) => {
  const dash = args.includes('--') ? args.indexOf('--') : args.length;
  return runKoncli([...args.slice(0, dash), ...K, ...clusterArgs(admin, ns), ...args.slice(dash)], { timeoutMs: 120_000 });
};
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const kubectl = (args: string[], input?: string) => runCommand(kubectlPath(), ['--kubeconfig', admin, '-n', ns, ...args], { input });
const custom = () => adminConfig().makeApiClient(CustomObjectsApi);
const objectOf = async (plural: string, name: string) =>
  (await custom().getNamespacedCustomObject({ group: 'konductor.io', version: 'v1', plural, namespace: ns, name })) as {
    metadata: { resourceVersion: string };
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
  };
const TYPES: Record<string, { plural: string; kindName: string }> = {
  mutex: { plural: 'mutexes', kindName: 'Mutex' },
  once: { plural: 'onces', kindName: 'Once' },
  rwmutex: { plural: 'rwmutexes', kindName: 'RWMutex' },
  barrier: { plural: 'barriers', kindName: 'Barrier' },
  waitgroup: { plural: 'waitgroups', kindName: 'WaitGroup' },
  gate: { plural: 'gates', kindName: 'Gate' },
};
const patchStatus = (resource: string, name: string, status: object) =>
  kubectl(['patch', resource, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('konductor-prim');
  // Cluster-wide and idempotent: every file that needs the CRDs installs them.
  const install = await runKoncli(['crd', 'install', '--json', '--kubeconfig', admin]);
  expect(install.code).toBe(0);
  const items = json(install.stdout).items as { name: string; established: boolean }[];
  expect(items.map((i) => [i.name, i.established])).toEqual([
    ['leases.konductor.io', true],
    ['mutexes.konductor.io', true],
    ['onces.konductor.io', true],
    ['rwmutexes.konductor.io', true],
    ['barriers.konductor.io', true],
    ['waitgroups.konductor.io', true],
    ['gates.konductor.io', true],
    ['semaphores.konductor.io', true],
    ['permits.konductor.io', true],
  ]);
}, 120_000);
afterAll(cleanup);

describe("objects applied from konductor's docs/api examples", () => {
  test('Mutex (docs/api/mutex.md): lock, busy for another, status, unlock as the docs script does; kubectl sees the holder', async () => {
    const applied = await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Mutex\nmetadata:\n  name: db-migration\nspec:\n  ttl: 15m\n');
    expect(applied.code).toBe(0);
    const guardedOn = (await objectOf('mutexes', 'db-migration')).metadata.resourceVersion;
    const locked = await koncli('mutex', 'lock', 'db-migration', '--holder', 'pod-a', '--timeout', '30s', '--json');
    expect(locked.code).toBe(0);
    expect(json(locked.stdout)).toMatchObject({ holder: 'pod-a', outcome: 'acquired', ttlSeconds: 900, fencingToken: guardedOn });
    const obj = await objectOf('mutexes', 'db-migration');
    expect(obj.spec).toEqual({ ttl: '15m' });
    expect(obj.status).toMatchObject({
      holder: 'pod-a',
      phase: 'Locked',
      lockedAt: expect.any(String),
      expiresAt: expect.any(String),
      fencingToken: guardedOn,
    });
    const printed = await kubectl(['get', 'mutex', 'db-migration', '-o', 'jsonpath={.status.holder} {.status.phase}']);
    expect(printed.stdout).toBe('pod-a Locked');

    const busy = await koncli('mutex', 'lock', 'db-migration', '--holder', 'pod-b', '--timeout', '0');
    expect(busy.code).toBe(3);
    expect(busy.stderr).toMatch(/^koncli: error: mutex db-migration is held by pod-a/m);
    expect(json((await koncli('mutex', 'status', 'db-migration', '--json')).stdout)).toMatchObject({ state: 'held', holder: 'pod-a', ttlSeconds: 900 });
    expect((await koncli('mutex', 'unlock', 'db-migration', '--holder', 'pod-a')).code).toBe(0);
    expect((await objectOf('mutexes', 'db-migration')).status).toEqual({ phase: 'Unlocked', fencingToken: guardedOn });
    const listed = await koncli('mutex', 'list');
    expect(listed.stdout).toMatch(/^db-migration\s+free\s/m);
    const everywhere = await koncli('mutex', 'list', '-A');
    expect([everywhere.code, everywhere.stderr]).toEqual([0, '']);
    expect(everywhere.stdout).toMatch(new RegExp(`^${ns}\\s+db-migration\\s+free\\s`, 'm'));
  });

  test('Once (docs/api/once.md): check says not executed (exit 3), once run runs it exactly once, then check greps "has been executed"', async () => {
    expect((await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Once\nmetadata:\n  name: db-init\nspec:\n  ttl: 24h\n')).code).toBe(0);
    const before = await koncli('once', 'check', 'db-init');
    expect(before.code).toBe(3);
    expect(before.stdout).toMatch(/has not been executed/);
    const dir = workDir('konductor-once');
    const marker = join(dir, 'ran');
    const runs = await Promise.all(
      [0, 1, 2].map((i) => startKoncli(ns, ['once', 'run', 'db-init', ...K, '--holder', `r${i}`, '--', 'sh', '-c', `echo r${i} >> "${marker}"`]).done),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(linesOf(marker)).toHaveLength(1);
    const after = await koncli('once', 'check', 'db-init');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/has been executed/);
    const status = (await objectOf('onces', 'db-init')).status;
    expect(status).toMatchObject({ executed: true, executor: linesOf(marker)[0], phase: 'Executed', exitCode: 0, executedAt: expect.any(String) });
  });

  test('RWMutex (docs/api/rwmutex.md): readers share, a writer is refused until they unlock; kubectl sees readHolders and the writer', async () => {
    expect((await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: RWMutex\nmetadata:\n  name: cache-lock\nspec:\n  ttl: 5m\n')).code).toBe(0);
    expect((await koncli('rwmutex', 'rlock', 'cache-lock', '--holder', 'reader-1')).code).toBe(0);
    expect((await koncli('rwmutex', 'rlock', 'cache-lock', '--holder', 'reader-2')).code).toBe(0);
    expect((await koncli('rwmutex', 'lock', 'cache-lock', '--holder', 'writer', '--timeout', '0')).code).toBe(3);
    expect((await objectOf('rwmutexes', 'cache-lock')).status).toMatchObject({ readHolders: ['reader-1', 'reader-2'], phase: 'ReadLocked' });
    for (const r of ['reader-1', 'reader-2']) expect((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', r)).code).toBe(0);
    expect((await koncli('rwmutex', 'lock', 'cache-lock', '--holder', 'writer', '--timeout', '0')).code).toBe(0);
    const printed = await kubectl(['get', 'rwmutex', 'cache-lock', '-o', 'jsonpath={.status.writeHolder} {.status.phase} {.status.fencingToken}']);
    expect(printed.stdout).toMatch(/^writer WriteLocked \d+$/);
  });

  test('Barrier (docs/api/barrier.md, quorum-based): 10 concurrent arrivals, exactly one opens it at the quorum; wait returns; kubectl sees it', async () => {
    const manifest = 'apiVersion: konductor.io/v1\nkind: Barrier\nmetadata:\n  name: consensus-barrier\nspec:\n  expected: 10\n  quorum: 7\n  timeout: 15m\n';
    expect((await kubectl(['apply', '-f', '-'], manifest)).code).toBe(0);
    const waiting = await koncli('barrier', 'wait', 'consensus-barrier', '--timeout', '0');
    expect(waiting.code).toBe(3);
    const arrivals = await Promise.all(
      Array.from({ length: 10 }, (_, i) => koncli('barrier', 'arrive', 'consensus-barrier', '--holder', `pod-${i}`, '--json')),
    );
    expect(arrivals.map((a) => a.code)).toEqual(Array(10).fill(0));
    expect(arrivals.filter((a) => json(a.stdout).opened === true)).toHaveLength(1);
    const status = (await objectOf('barriers', 'consensus-barrier')).status!;
    expect(status).toMatchObject({ arrived: 10, phase: 'Open', openedAt: expect.any(String) });
    expect([...(status.arrivals as string[])].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `pod-${i}`).sort());
    expect((await koncli('barrier', 'wait', 'consensus-barrier', '--timeout', '0')).code).toBe(0);
    const printed = await kubectl(['get', 'barrier', 'consensus-barrier', '-o', 'jsonpath={.spec.expected} {.spec.quorum} {.status.arrived} {.status.phase}']);
    expect(printed.stdout).toBe('10 7 10 Open');
    expect(json((await koncli('barrier', 'status', 'consensus-barrier', '--json')).stdout)).toMatchObject({
      phase: 'Open',
      expected: 10,
      quorum: 7,
      arrived: 10,
    });
  });

  test('Barrier created by koncli: spec.expected/timeout written as konductor spells them', async () => {
    expect((await koncli('barrier', 'create', 'services-ready', '--expected', '4', '--timeout', '10m')).code).toBe(0);
    const obj = await objectOf('barriers', 'services-ready');
    expect(obj.spec).toEqual({ expected: 4, timeout: '10m' });
    expect(obj.status).toMatchObject({ arrived: 0, phase: 'Waiting', deadline: { ttlSeconds: 600 } });
  });

  test("Barrier applied with timeout: 2s fails 2s after its creation, as konductor's controller judges it: wait and arrive exit 3", async () => {
    expect(
      (await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Barrier\nmetadata:\n  name: too-late\nspec:\n  expected: 2\n  timeout: 2s\n'))
        .code,
    ).toBe(0);
    const waited = await koncli('barrier', 'wait', 'too-late', '--timeout', '60s');
    expect(waited.code).toBe(3);
    expect(waited.stderr).toMatch(/barrier too-late has failed: its --timeout of 2s passed with 0 of 2 needed arrivals/);
    const before = (await objectOf('barriers', 'too-late')).metadata.resourceVersion;
    // A new process has not watched the 2s pass: it trusts the writer's time (creationTimestamp + timeout) only within --max-clock-skew.
    expect((await koncli('barrier', 'arrive', 'too-late', '--holder', 'late', '--max-clock-skew', '0s')).code).toBe(3);
    expect((await objectOf('barriers', 'too-late')).metadata.resourceVersion).toBe(before);
  });

  test('WaitGroup (docs/api/waitgroup.md): add --delta 3, a waiter blocks, three done bring it to 0 and the waiter returns', async () => {
    expect((await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: WaitGroup\nmetadata:\n  name: batch-jobs\nspec:\n  ttl: 1h\n')).code).toBe(
      0,
    );
    expect((await koncli('waitgroup', 'add', 'batch-jobs', '--delta', '3')).code).toBe(0);
    expect((await objectOf('waitgroups', 'batch-jobs')).status).toEqual({ counter: 3, phase: 'Waiting' });
    const waiter = startKoncli(ns, ['waitgroup', 'wait', 'batch-jobs', ...K, '--timeout', '60s']);
    await Promise.all([0, 1, 2].map(() => koncli('waitgroup', 'done', 'batch-jobs')));
    expect((await waiter.done).code).toBe(0);
    const obj = await objectOf('waitgroups', 'batch-jobs');
    expect([obj.spec, obj.status]).toEqual([{ ttl: '1h' }, { counter: 0, phase: 'Done' }]);
    const tooMany = await koncli('waitgroup', 'done', 'batch-jobs');
    expect(tooMany.code).toBe(5);
    expect((await objectOf('waitgroups', 'batch-jobs')).metadata.resourceVersion).toBe(obj.metadata.resourceVersion);
  });

  test('Gate (docs/api/gate.md) on a konductor Barrier: closed until the barrier opens, then its waiter returns; open and close by hand', async () => {
    const manifest = [
      'apiVersion: konductor.io/v1\nkind: Barrier\nmetadata:\n  name: extractors-done\nspec:\n  expected: 1\n',
      'apiVersion: konductor.io/v1\nkind: Gate\nmetadata:\n  name: processing-gate\nspec:\n  conditions:\n  - type: Barrier\n    name: extractors-done\n    state: Open\n',
    ].join('---\n');
    expect((await kubectl(['apply', '-f', '-'], manifest)).code).toBe(0);
    expect((await koncli('gate', 'wait', 'processing-gate', '--timeout', '0')).code).toBe(3);
    const waiter = startKoncli(ns, ['gate', 'wait', 'processing-gate', ...K, '--timeout', '60s', '--json']);
    expect((await koncli('barrier', 'arrive', 'extractors-done', '--holder', 'extract-1')).code).toBe(0);
    const waited = await waiter.done;
    expect(waited.code).toBe(0);
    expect(json(waited.stdout)).toMatchObject({ state: 'open', conditions: [expect.objectContaining({ type: 'Barrier', met: true })] });

    expect((await koncli('gate', 'create', 'manual')).code).toBe(0);
    expect((await koncli('gate', 'open', 'manual', '--holder', 'ops')).code).toBe(0);
    expect((await objectOf('gates', 'manual')).status).toEqual({ phase: 'Open', openedAt: expect.any(String), openedBy: 'ops' });
    expect((await kubectl(['get', 'gate', 'manual', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Open');
    expect((await koncli('gate', 'close', 'manual')).code).toBe(0);
    expect((await objectOf('gates', 'manual')).status).toEqual({ phase: 'Waiting' });
    expect((await koncli('gate', 'wait', 'manual', '--timeout', '0')).code).toBe(3);
  });

  test('a status written by another konductor writer (no koncli fields) is read as konductor reads it', async () => {
    await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Mutex\nmetadata:\n  name: shared-resource\nspec:\n  ttl: 2m\n');
    const now = new Date();
    const later = new Date(now.getTime() + 120_000);
    const at = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await patchStatus('mutex', 'shared-resource', { holder: 'pod-xyz-123', lockedAt: at(now), expiresAt: at(later), phase: 'Locked' })).code).toBe(0);
    const busy = await koncli('mutex', 'lock', 'shared-resource', '--holder', 'me', '--json');
    expect(busy.code).toBe(3);
    expect(json(busy.stdout)).toMatchObject({ error: { kind: 'busy', holder: 'pod-xyz-123' } });

    await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Once\nmetadata:\n  name: config-setup\n');
    expect((await patchStatus('once', 'config-setup', { executed: true, executor: 'pod-xyz-123', executedAt: at(now), phase: 'Executed' })).code).toBe(0);
    const check = await koncli('once', 'check', 'config-setup', '--json');
    expect(check.code).toBe(0);
    expect(json(check.stdout)).toMatchObject({ executed: true, holder: 'pod-xyz-123' });

    await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: RWMutex\nmetadata:\n  name: config-cache\nspec:\n  ttl: 2m\n');
    expect((await patchStatus('rwmutex', 'config-cache', { readHolders: ['pod-xyz-123'], lockedAt: at(now), phase: 'ReadLocked' })).code).toBe(0);
    expect((await koncli('rwmutex', 'lock', 'config-cache', '--holder', 'me', '--timeout', '0')).code).toBe(3);
    expect((await koncli('rwmutex', 'rlock', 'config-cache', '--holder', 'me')).code).toBe(0);
    expect((await objectOf('rwmutexes', 'config-cache')).status).toMatchObject({ readHolders: ['pod-xyz-123', 'me'], phase: 'ReadLocked' });

    await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: Barrier\nmetadata:\n  name: extract-complete\nspec:\n  expected: 3\n');
    expect((await patchStatus('barrier', 'extract-complete', { arrived: 2, arrivals: ['pod-xyz-123', 'pod-abc'], phase: 'Waiting' })).code).toBe(0);
    const arrived = await koncli('barrier', 'arrive', 'extract-complete', '--holder', 'me', '--json');
    expect(json(arrived.stdout)).toMatchObject({ opened: true });
    expect((await objectOf('barriers', 'extract-complete')).status).toMatchObject({ arrived: 3, arrivals: ['pod-xyz-123', 'pod-abc', 'me'], phase: 'Open' });

    await kubectl(['apply', '-f', '-'], 'apiVersion: konductor.io/v1\nkind: WaitGroup\nmetadata:\n  name: workers\n');
    expect((await patchStatus('waitgroup', 'workers', { counter: 1, phase: 'Waiting' })).code).toBe(0);
    expect((await koncli('waitgroup', 'wait', 'workers', '--timeout', '0')).code).toBe(3);
    expect((await koncli('waitgroup', 'done', 'workers')).code).toBe(0);
    expect((await koncli('waitgroup', 'wait', 'workers', '--timeout', '0')).code).toBe(0);
  });
});

describe('judging', () => {
  test("a busy konductor Mutex's rule is judged, and worded, with the API server's write time of its status (managedFields)", async () => {
    expect((await koncli('mutex', 'lock', 'stamped', '--holder', 'pod-a', '--ttl', '60s')).code).toBe(0);
    const { managedFields } = (await objectOf('mutexes', 'stamped')).metadata as { managedFields?: { manager?: string; subresource?: string }[] };
    expect(managedFields).toContainEqual(expect.objectContaining({ manager: 'koncli', subresource: 'status' }));
    await sleep(3_500); // past the Date headers' and managedFields' 1 s precision
    const busy = await koncli('mutex', 'lock', 'stamped', '--holder', 'pod-b', '--timeout', '0', '--max-clock-skew', '0s', '--json');
    expectServerStampedRule(busy);
  });
});

describe('contention', () => {
  test('5 concurrent mutex runs on one konductor Mutex: sections never overlap, fencing tokens strictly increase', async () => {
    const dir = workDir('konductor-mutex-run');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const procs = Array.from({ length: 5 }, (_, i) =>
      startKoncli(ns, ['mutex', 'run', 'critical', ...K, '--wait', '--ttl', '6s', '--', section, log, `s${i}`, '0.3']),
    );
    const results = await Promise.all(procs.map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual(Array(5).fill(0));
    const check = checkExclusion(log);
    expect(check.sections).toHaveLength(5);
    expect(check.overlaps).toEqual([]);
    expect(check.malformed).toEqual([]);
    expect(check.tokenRegressions).toEqual([]);
    expect((await objectOf('mutexes', 'critical')).status).toMatchObject({ phase: 'Unlocked', fencingToken: expect.stringMatching(/^\d+$/) });
  });

  test('6 concurrent rwmutex runs (2 writers, 4 readers) on one konductor RWMutex: no writer overlaps anyone, all run', async () => {
    const dir = workDir('konductor-rwmutex-run');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const ids = ['w0', 'r1', 'r2', 'w3', 'r4', 'r5'];
    const procs = ids.map((id) =>
      startKoncli(ns, [
        'rwmutex',
        'run',
        'shared',
        ...K,
        id[0] === 'w' ? '--write' : '--read',
        '--holder',
        id,
        '--wait',
        '--ttl',
        '6s',
        '--',
        section,
        log,
        id,
        '0.3',
      ]),
    );
    const results = await Promise.all(procs.map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual(Array(6).fill(0));
    const check = checkExclusion(log);
    expect(check.sections.map((x) => x.id).sort()).toEqual([...ids].sort());
    expect(check.malformed).toEqual([]);
    expect(check.overlaps.filter((pair) => pair.some((id) => id.startsWith('w')))).toEqual([]);
    expect((await objectOf('rwmutexes', 'shared')).status).toMatchObject({ phase: 'Unlocked', fencingToken: expect.stringMatching(/^\d+$/) });
  });
});

describe('bad data', () => {
  test('a Mutex being deleted (a finalizer holds it) gets no claim: exit 10 naming mutexes.konductor.io, nothing written', async () => {
    const manifest = 'apiVersion: konductor.io/v1\nkind: Mutex\nmetadata:\n  name: going\n  finalizers: [example.com/keep]\n';
    expect((await kubectl(['apply', '-f', '-'], manifest)).code).toBe(0);
    expect((await kubectl(['delete', 'mutex', 'going', '--wait=false'])).code).toBe(0);
    const before = (await objectOf('mutexes', 'going')).metadata.resourceVersion;
    const refused = await koncli('mutex', 'lock', 'going', '--holder', 'me');
    expect(refused.code).toBe(10);
    expect(refused.stderr).toMatch(
      /^koncli: error: mutex going \(mutexes\.konductor\.io going in namespace \S+\) is being deleted .*finalizer example\.com\/keep/m,
    );
    expect((await objectOf('mutexes', 'going')).metadata.resourceVersion).toBe(before);
    expect((await kubectl(['patch', 'mutex', 'going', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'])).code).toBe(0);
  });

  test.each([
    ['mutex', 'bad-holder', { holder: 5, phase: 'Locked' }, /status\.holder is 5, not a string/],
    ['mutex', 'bad-phase', { phase: 'Sideways' }, /status\.phase is "Sideways"/],
    ['once', 'bad-executed', { executed: 'yes', phase: 'Executed' }, /status\.executed is "yes", not true or false/],
    ['rwmutex', 'bad-readers', { readHolders: 'pod-a', phase: 'ReadLocked' }, /status\.readHolders is "pod-a", not a list of holder names/],
    ['barrier', 'bad-arrivals', { arrivals: 'pod-a', arrived: 1 }, /status\.arrivals is "pod-a", not a list of holder names/],
    ['barrier', 'bad-arrived', { arrivals: ['pod-a'], arrived: 4 }, /status\.arrived is 4, not the number of status\.arrivals \(1\)/],
    ['waitgroup', 'bad-counter', { counter: -1, phase: 'Waiting' }, /status\.counter is -1, not a non-negative integer/],
    ['gate', 'bad-opened', { phase: 'Open', openedAt: 'noon' }, /status\.openedAt is "noon", not an RFC 3339 time/],
  ])('a %s with %s is refused in one line (exit 9) and left as it was', async (kind, name, status, message) => {
    const { plural, kindName } = TYPES[kind];
    const spec = kind === 'barrier' ? 'spec:\n  expected: 5\n' : '';
    expect((await kubectl(['apply', '-f', '-'], `apiVersion: konductor.io/v1\nkind: ${kindName}\nmetadata:\n  name: ${name}\n${spec}`)).code).toBe(0);
    expect((await patchStatus(kind, name, status)).code).toBe(0);
    const before = (await objectOf(plural, name)).metadata.resourceVersion;
    const verbs: Record<string, string[]> = {
      once: ['once', 'run', name, '--', 'true'],
      barrier: ['barrier', 'arrive', name, '--holder', 'me'],
      waitgroup: ['waitgroup', 'add', name, '--delta', '1'],
      gate: ['gate', 'close', name],
    };
    const verb = verbs[kind] ?? [kind, 'lock', name, '--holder', 'me'];
    const refused = await koncli(...verb);
    expect(refused.code).toBe(9);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(refused.stderr).toMatch(/koncli will not interpret or overwrite it \(fix: kubectl patch/);
    expect((await objectOf(plural, name)).metadata.resourceVersion).toBe(before);
    const listed = await koncli(kind, 'list', '--json');
    expect(listed.code).toBe(0);
    expect((json(listed.stdout).items as { name: string; state: string }[]).find((i) => i.name === name)).toMatchObject({ state: 'corrupt' });
  });
});
