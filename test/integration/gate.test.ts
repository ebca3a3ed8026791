// `koncli gate` on the real API server through the real CLI: konductor's Gate (docs/api/gate.md,
// docs/cli/gate.md) without its operator. The plane runs no controllers, so a Job is completed by
// writing its status subresource, as a Job controller would. A waiter watches the gate and every
// object its conditions name, and returns only once the last condition is met.
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { DEAD_CONNECTION_NOTICED_MS } from '../../src/core/timing.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { cleanup, startKoncli, until } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const batch = () => adminConfig().makeApiClient(BatchV1Api);
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)], { timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const versionOf = async (name: string) => (await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.resourceVersion;

async function createJob(name: string): Promise<void> {
  const body: V1Job = {
    metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  await batch().createNamespacedJob({ namespace: ns, body });
}

/** Marks a Job succeeded through its status subresource (what the Job controller would write). */
async function completeJob(name: string): Promise<void> {
  const job = await batch().readNamespacedJob({ name, namespace: ns });
  const now = new Date();
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: now, lastTransitionTime: now });
  job.status = { succeeded: 1, startTime: now, completionTime: now, conditions: [condition('SuccessCriteriaMet'), condition('Complete')] };
  await batch().replaceNamespacedJobStatus({ name, namespace: ns, body: job });
}

const running = (p: { child: { exitCode: number | null; signalCode: string | null } }) => p.child.exitCode === null && p.child.signalCode === null;

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('gate');
});
afterAll(cleanup);

describe("konductor's gate (docs/api/gate.md)", () => {
  test('Job Dependencies: gate wait returns once both Jobs are Complete (set through the status subresource), not before', async () => {
    await Promise.all([createJob('data-validation'), createJob('data-cleanup')]);
    const created = await koncli('gate', 'create', 'processing-gate', '--condition', 'job/data-validation', '--condition', 'Job/data-cleanup=Complete');
    expect(created.code).toBe(0);
    const cm = await core().readNamespacedConfigMap({ name: 'processing-gate', namespace: ns });
    expect(cm.metadata!.labels).toMatchObject({ 'koncli.dev/primitive': 'gate' });
    expect(JSON.parse(cm.metadata!.annotations!['koncli.dev/gate'])).toEqual({
      conditions: [
        { type: 'Job', name: 'data-validation' },
        { type: 'Job', name: 'data-cleanup', state: 'Complete' },
      ],
      opened: null,
    });
    const waiter = startKoncli(ns, ['gate', 'wait', 'processing-gate', '--timeout', '30m', '--json']);
    await completeJob('data-validation');
    await until(
      'the first Job to be judged complete',
      async () => json((await koncli('gate', 'status', 'processing-gate', '-o', 'json')).stdout).conditionsMet === 1,
    );
    expect(running(waiter)).toBe(true);
    await completeJob('data-cleanup');
    const r = await waiter.done;
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      kind: 'gate',
      name: 'processing-gate',
      phase: 'Open',
      conditionsMet: 2,
      conditionsTotal: 2,
      conditions: [
        { type: 'Job', name: 'data-validation', namespace: ns, met: true, message: 'Job completed successfully' },
        { type: 'Job', name: 'data-cleanup', namespace: ns, met: true, message: 'Job completed successfully' },
      ],
    });
  });

  test('a gate on a Lease, a Semaphore, a Barrier and a nested Gate opens only when the last is met, each watched', async () => {
    expect((await koncli('lease', 'acquire', 'db-maintenance', '--holder', 'dba', '--ttl', '10m')).code).toBe(0);
    expect((await koncli('semaphore', 'lock', 'pool', '--create', '--max', '1', '--holder', 'w1', '--ttl', '10m')).code).toBe(0);
    expect((await koncli('barrier', 'create', 'extract-complete', '--expected', '1')).code).toBe(0);
    expect((await koncli('gate', 'create', 'stage-1-gate')).code).toBe(0);
    const conditions = ['lease/db-maintenance=Available', 'semaphore/pool=1', 'barrier/extract-complete', 'gate/stage-1-gate'];
    expect((await koncli('gate', 'create', 'stage-2-gate', ...conditions.flatMap((c) => ['--condition', c]))).code).toBe(0);
    const waiter = startKoncli(ns, ['gate', 'wait', 'stage-2-gate', '--timeout', '5m', '--json']);
    const steps: [string, string[]][] = [
      ['lease', ['lease', 'release', 'db-maintenance', '--holder', 'dba']],
      ['semaphore', ['semaphore', 'unlock', 'pool', '--holder', 'w1']],
      ['barrier', ['barrier', 'arrive', 'extract-complete', 'e1']],
    ];
    for (const [what, args] of steps) {
      expect([what, (await koncli(...args)).code]).toEqual([what, 0]);
      expect([what, running(waiter)]).toEqual([what, true]);
    }
    const status = json((await koncli('gate', 'status', 'stage-2-gate', '--json')).stdout);
    expect(status).toMatchObject({ phase: 'Waiting', conditionsMet: 3, conditionsTotal: 4 });
    expect((status.conditions as { type: string; met: boolean }[]).filter((c) => !c.met).map((c) => c.type)).toEqual(['Gate']);
    expect((await koncli('gate', 'open', 'stage-1-gate', '--holder', 'ops')).code).toBe(0);
    const r = await waiter.done;
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ phase: 'Open', conditionsMet: 4, openedBy: null });
  });

  test('open and close by hand; wait --timeout exits 3 naming what is not met; bad input is one line and changes nothing', async () => {
    await createJob('security-scan');
    expect((await koncli('gate', 'create', 'deploy-gate', '--condition', 'job/security-scan')).code).toBe(0);
    const timedOut = await koncli('gate', 'wait', 'deploy-gate', '--timeout', '1s');
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr.trim()).toBe('koncli: error: gate deploy-gate is closed: 0 of 1 conditions met (Job security-scan: Job not complete) (waited 1s)');
    const waiter = startKoncli(ns, ['gate', 'wait', 'deploy-gate']);
    const opened = await koncli('gate', 'open', 'deploy-gate', '--holder', 'release-manager', '--json');
    expect(json(opened.stdout)).toMatchObject({ outcome: 'opened', state: 'open', openedBy: 'release-manager' });
    expect((await waiter.done).code).toBe(0);
    expect(json((await koncli('gate', 'open', 'deploy-gate', '--json')).stdout)).toMatchObject({ outcome: 'already-open' });
    expect(json((await koncli('gate', 'close', 'deploy-gate', '--json')).stdout)).toMatchObject({ outcome: 'closed', state: 'closed' });
    expect((await koncli('gate', 'wait', 'deploy-gate', '--timeout', '0')).code).toBe(3);
    expect((await koncli('gate', 'list')).stdout).toMatch(/^deploy-gate\s+closed\s+0\/1\s+-$/m);

    const before = await versionOf('deploy-gate');
    const bad = [
      ['create', 'deploy-gate', '--condition', 'job/other'], // exists with other conditions
      ['create', 'g', '--condition', 'pod/x'],
      ['create', 'g', '--condition', 'semaphore/pool=Open'],
      ['create', 'g', '--condition', 'lease/db=Held'],
      ['wait', 'deploy-gate', '--timeout', 'soon'],
    ];
    // In parallel: each is one short process.
    const results = await Promise.all(bad.map((args) => koncli('gate', ...args)));
    results.forEach((r, n) => {
      expect([bad[n], r.code]).toEqual([bad[n], 2]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
    expect(await versionOf('deploy-gate')).toBe(before);
    expect((await koncli('gate', 'status', 'g')).code).toBe(6);
    expect((await koncli('gate', 'open', 'g')).code).toBe(6);
    expect((await koncli('gate', 'delete', 'deploy-gate')).code).toBe(0);
    expect((await koncli('gate', 'status', 'deploy-gate')).code).toBe(6);
  });

  test(
    'gate wait counts only events naming its Job, and notices frozen watch connections (through a fault proxy)',
    async () => {
      await createJob('frozen-job');
      expect((await koncli('gate', 'create', 'frozen-gate', '--condition', 'job/frozen-job')).code).toBe(0);
      const proxy = await startFaultProxy();
      try {
        const kubeconfig = proxy.kubeconfig(mkdtempSync(join(tmpdir(), 'koncli-gate-')), ns);
        let returned = false;
        const waiter = runKoncli(['gate', 'wait', 'frozen-gate', '--timeout', '3m', '--json', '--kubeconfig', kubeconfig], { timeoutMs: 200_000 }).finally(
          () => (returned = true),
        );
        await until(
          'the waiter watches the Job and the gate',
          () => proxy.watches({ path: /\/jobs\?/ }) === 1 && proxy.watches({ path: /\/configmaps\?/ }) === 1,
        );
        // Another Job's completion, injected into the Job watch: it names another object, so it does not count.
        const other = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'other-job', namespace: ns, resourceVersion: '999999999', uid: 'other' } };
        const injected = { type: 'MODIFIED', object: { ...other, status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } } };
        expect(proxy.inject({ watch: true, path: /\/jobs\?/ }, JSON.stringify(injected))).toBe(1);
        await new Promise((r) => setTimeout(r, 1500));
        expect(returned).toBe(false);
        // Every connection goes silent without closing; the Job completes meanwhile.
        expect(proxy.freezeAll()).toBeGreaterThanOrEqual(2);
        const frozenAt = proxy.seen.length;
        await completeJob('frozen-job');
        const r = await waiter;
        expect(r.code).toBe(0);
        expect(json(r.stdout)).toMatchObject({ phase: 'Open', conditions: [{ name: 'frozen-job', met: true }] });
        // Noticed by the feed's silence check: a fresh read of the Job (core/feed.ts), on a new connection.
        expect(proxy.seen.slice(frozenAt).some((q) => q.method === 'GET' && /\/jobs\/frozen-job(\?|$)/.test(q.path))).toBe(true);
      } finally {
        await proxy.close();
      }
    },
    DEAD_CONNECTION_NOTICED_MS + 60_000,
  );
});
