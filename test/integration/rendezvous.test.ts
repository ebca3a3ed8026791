// `koncli barrier` and `koncli waitgroup` on the real API server through the real CLI: konductor's
// verbs, flags and examples (docs/api/barrier.md, docs/api/waitgroup.md, docs/cli/waitgroup.md),
// the stored format (docs/formats.md), contention from concurrent processes (a barrier opened by
// exactly one of its arrivals, a counter moved by concurrent adds and dones ending at 0 and waking
// its waiters), timeouts (exit 3) and bad input (one line, nothing changed).
import { CoreV1Api } from '@kubernetes/client-node';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { cleanup, startKoncli, startShell, until } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)], { timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const recordOf = async (kind: string, name: string) =>
  JSON.parse((await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.annotations![`koncli.dev/${kind}`]) as Record<string, unknown>;
const versionOf = async (name: string) => (await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.resourceVersion;

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('rendezvous');
});
afterAll(cleanup);

describe("konductor's barrier (docs/api/barrier.md)", () => {
  test('--expected 5 with 5 concurrent arrivals (one of them twice) opens exactly once and wakes every waiter', async () => {
    expect((await koncli('barrier', 'create', 'stage-1-complete', '--expected', '5')).code).toBe(0);
    expect(await recordOf('barrier', 'stage-1-complete')).toEqual({ expected: 5, arrivals: [], openedAt: null });
    const waiters = [0, 1].map(() => startKoncli(ns, ['barrier', 'wait', 'stage-1-complete', '--timeout', '60s', '--json']));
    const arrivals = ['w0', 'w1', 'w2', 'w3', 'w4', 'w4'].map((h) => startKoncli(ns, ['barrier', 'arrive', 'stage-1-complete', h, '--json']));
    const arrived = await Promise.all(arrivals.map((p) => p.done));
    expect(arrived.map((r) => r.code)).toEqual(Array(6).fill(0));
    const docs = arrived.map((r) => json(r.stdout));
    expect(docs.filter((d) => d.opened === true)).toHaveLength(1);
    expect(docs.filter((d) => d.outcome === 'already-arrived')).toHaveLength(1);
    const woke = await Promise.all(waiters.map((p) => p.done));
    expect(woke.map((r) => r.code)).toEqual([0, 0]);
    for (const w of woke) expect(json(w.stdout)).toMatchObject({ kind: 'barrier', phase: 'Open', arrived: 5, expected: 5 });
    const record = await recordOf('barrier', 'stage-1-complete');
    expect((record.arrivals as { holder: string }[]).map((a) => a.holder).sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
    expect(record.openedAt).toEqual(docs.find((d) => d.opened)!.openedAt);
    const status = json((await koncli('barrier', 'status', 'stage-1-complete', '-o', 'json')).stdout);
    expect(status).toMatchObject({ state: 'open', phase: 'Open', arrived: 5, quorum: null, openedAt: record.openedAt });
  });

  test("quorum: konductor's consensus-barrier (expected 10, quorum 7) opens at the 7th arrival; wait --timeout exits 3 before", async () => {
    expect((await koncli('barrier', 'create', 'consensus-barrier', '--expected', '10', '--quorum', '7', '--timeout', '15m')).code).toBe(0);
    await Promise.all(Array.from({ length: 6 }, (_, i) => koncli('barrier', 'arrive', 'consensus-barrier', '--holder', `voter-${i}`)));
    const early = await koncli('barrier', 'wait', 'consensus-barrier', '--timeout', '1s', '--json');
    expect(early.code).toBe(3);
    expect(json(early.stdout)).toMatchObject({
      error: { kind: 'busy', exitCode: 3, message: expect.stringMatching(/6 of 7 needed arrivals \(expected 10\) \(waited 1s\)$/) },
    });
    const seventh = await koncli('barrier', 'arrive', 'consensus-barrier', '--holder', 'voter-6', '--json');
    expect(json(seventh.stdout)).toMatchObject({ outcome: 'arrived', opened: true, arrived: 7, state: 'open' });
    expect((await koncli('barrier', 'wait', 'consensus-barrier', '--timeout=30m')).code).toBe(0);
    const listed = await koncli('barrier', 'list');
    expect(listed.stdout).toMatch(/^consensus-barrier\s+open\s+7\s+10\s+\S+Z$/m);
  });

  test("a barrier's own --timeout passing before its quorum fails it: wait exits 3 at once, an arrival is refused and changes nothing", async () => {
    expect((await koncli('barrier', 'create', 'services-ready', '--expected', '4', '--timeout', '2s')).code).toBe(0);
    expect((await koncli('barrier', 'arrive', 'services-ready', 'svc-a')).code).toBe(0);
    const waited = await koncli('barrier', 'wait', 'services-ready', '--timeout', '60s');
    expect(waited.code).toBe(3);
    expect(waited.stderr.trim()).toMatch(/^koncli: error: barrier services-ready has failed: its --timeout of 2s passed with 1 of 4 needed arrivals/);
    // A fresh process judges the deadline by the creator's expiresAt plus --max-clock-skew (docs/clock.md).
    const status = async () => json((await koncli('barrier', 'status', 'services-ready', '--json', '--max-clock-skew', '1s')).stdout);
    await until('a fresh process to see the barrier failed', async () => (await status()).phase === 'Failed', 30_000, 200);
    expect(await status()).toMatchObject({ phase: 'Failed', state: 'failed', arrived: 1, arrivals: ['svc-a'] });
    const before = await versionOf('services-ready');
    const late = await koncli('barrier', 'arrive', 'services-ready', 'svc-b', '--max-clock-skew', '1s');
    expect(late.code).toBe(3);
    expect(late.stderr.trim()).toMatch(/^koncli: error: barrier services-ready has failed: .*; not arriving$/);
    expect(await versionOf('services-ready')).toBe(before);
  });

  test("the ETL example's wait in an init container: waits for a barrier not created yet; delete; bad input is one line and changes nothing", async () => {
    const waiter = startKoncli(ns, ['barrier', 'wait', 'extract-complete', '--timeout=1h']);
    expect((await koncli('barrier', 'create', 'extract-complete', '--expected', '1')).code).toBe(0);
    expect((await koncli('barrier', 'arrive', 'extract-complete')).code).toBe(0);
    expect((await waiter.done).code).toBe(0);
    expect((await koncli('barrier', 'delete', 'extract-complete')).code).toBe(0);
    expect((await koncli('barrier', 'status', 'extract-complete')).code).toBe(6);
    expect((await koncli('barrier', 'arrive', 'extract-complete')).code).toBe(6);

    const before = await versionOf('consensus-barrier');
    const bad = [
      ['create', 'consensus-barrier', '--expected', '3'], // exists with other settings
      ['create', 'too-many', '--expected', '3', '--quorum', '4'],
      ['create', 'none', '--expected', '0'],
      ['create', 'Bad_Name'],
      ['wait', 'consensus-barrier', '--timeout', 'soon'],
      ['arrive', 'consensus-barrier', 'voter-a', '--holder', 'voter-b'],
      ['create', 'huge', '--expected', '3000000000'],
    ];
    // In parallel: each is one short process.
    const results = await Promise.all(bad.map((args) => koncli('barrier', ...args)));
    results.forEach((r, n) => {
      expect([bad[n], r.code]).toEqual([bad[n], 2]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
    expect(await versionOf('consensus-barrier')).toBe(before);
    expect(
      (await core().listNamespacedConfigMap({ namespace: ns, labelSelector: 'koncli.dev/primitive=barrier' })).items.map((c) => c.metadata!.name).sort(),
    ).toEqual(['consensus-barrier', 'services-ready', 'stage-1-complete']);
  });
});

describe("konductor's waitgroup (docs/cli/waitgroup.md)", () => {
  test('adds and dones from concurrent processes end at 0 and wake the waiters; one done too many is refused (exit 5)', async () => {
    expect((await koncli('waitgroup', 'create', 'batch-jobs', '--ttl', '1h')).code).toBe(0);
    expect(await recordOf('waitgroup', 'batch-jobs')).toEqual({ ttlSeconds: 3600, counter: 0 });
    expect((await koncli('waitgroup', 'add', 'batch-jobs', '--delta', '4')).code).toBe(0);
    const waiters = [0, 1].map(() => startKoncli(ns, ['waitgroup', 'wait', 'batch-jobs', '--timeout', '60s', '--json']));
    // Four more workers each add themselves; then all eight are done, all concurrently.
    const adds = Array.from({ length: 4 }, () => startKoncli(ns, ['waitgroup', 'add', 'batch-jobs']));
    expect((await Promise.all(adds.map((p) => p.done))).map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(await recordOf('waitgroup', 'batch-jobs')).toMatchObject({ counter: 8 });
    const dones = Array.from({ length: 8 }, () => startKoncli(ns, ['waitgroup', 'done', 'batch-jobs', '--json']));
    const done = await Promise.all(dones.map((p) => p.done));
    expect(done.map((r) => r.code)).toEqual(Array(8).fill(0));
    expect(done.map((r) => json(r.stdout).counter).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const woke = await Promise.all(waiters.map((p) => p.done));
    expect(woke.map((r) => r.code)).toEqual([0, 0]);
    for (const w of woke) expect(json(w.stdout)).toMatchObject({ kind: 'waitgroup', phase: 'Done', counter: 0 });

    const before = await versionOf('batch-jobs');
    const extra = await koncli('waitgroup', 'done', 'batch-jobs');
    expect(extra.code).toBe(5);
    expect(extra.stderr.trim()).toBe('koncli: error: waitgroup batch-jobs is at 0; done would take it below 0 (more done than added): nothing changed');
    expect(await versionOf('batch-jobs')).toBe(before);
  });

  test("the docs' parallel-job script runs unchanged; wait --timeout exits 3 while above 0; status, list, delete", async () => {
    const script = `
      k() { $KONCLI --kubeconfig "${admin}" -n "${ns}" "$@" >/dev/null; }
      WG="script-jobs"
      JOBS=3
      k waitgroup create $WG
      k waitgroup add $WG --delta $JOBS
      for i in $(seq 1 $JOBS); do
        ( sleep 0.$i; k waitgroup done $WG ) &
      done
      k waitgroup wait $WG --timeout 30m && echo all-done`;
    const run = startShell(ns, script);
    const r = await run.done;
    expect(r.stdout.trim()).toBe('all-done');

    expect((await koncli('waitgroup', 'add', 'workers-left', '--delta', '1')).code).toBe(6);
    expect((await koncli('waitgroup', 'create', 'workers-left')).code).toBe(0);
    expect((await koncli('waitgroup', 'add', 'workers-left', '--delta', '2')).code).toBe(0);
    const timedOut = await koncli('waitgroup', 'wait', 'workers-left', '--timeout', '1s');
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr.trim()).toBe('koncli: error: waitgroup workers-left is at 2 (waited 1s)');
    const before = await versionOf('workers-left');
    const below = await koncli('waitgroup', 'add', 'workers-left', '--delta=-3');
    expect(below.code).toBe(5);
    expect((await koncli('waitgroup', 'add', 'workers-left', '--delta', 'many')).code).toBe(2);
    const huge = await koncli('waitgroup', 'add', 'workers-left', '--delta=-3000000000');
    expect([huge.code, huge.stderr.trim()]).toEqual([
      2,
      'koncli: error: --delta -3000000000 is out of range; use a whole number from -2147483647 to 2147483647',
    ]);
    expect(await versionOf('workers-left')).toBe(before);
    expect(json((await koncli('waitgroup', 'status', 'workers-left', '-o', 'json')).stdout)).toMatchObject({ phase: 'Waiting', counter: 2, state: 'waiting' });
    expect((await koncli('waitgroup', 'list')).stdout).toMatch(/^workers-left\s+waiting\s+2$/m);
    expect((await koncli('waitgroup', 'delete', 'workers-left')).code).toBe(0);
    expect((await koncli('waitgroup', 'status', 'workers-left')).code).toBe(6);
  });
});
