// Transient API failures are ridden out by the one retry policy (src/core/retry.ts), on the real
// control plane:
// - an admission webhook that is down for 20 s (a ValidatingWebhookConfiguration for Leases in the
//   test namespace, failurePolicy Fail, its URL on 127.0.0.1 where nothing listens: every Lease
//   write there answers 500) while waiters wait (`lease acquire --wait`, one of them on a lease
//   whose holder's TTL runs out during the outage) and while `lease run` holds and renews;
// - API Priority and Fairness throttling the restricted user (a FlowSchema sending it to a
//   priority level with the smallest concurrency and no queue, limitResponse Reject) while
//   `lease acquire --wait` and `semaphore lock --wait` wait, and another client of the same user
//   keeps the level full (ConfigMap creates that a slow webhook holds 2 s each): every request of
//   theirs gets 429 with Retry-After until the load stops.
// Every waiter and the holder must come through (exit 0); the figures go to REPORT.md.
import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KONCLI_ARGV } from '../support/cli.js';
import {
  deleteWebhook,
  leaseWritesAre,
  occupyPriorityLevel,
  registerDownWebhook,
  registerWebhook,
  startWebhook,
  throttleRestrictedUser,
} from '../support/admission.js';
import { adminConfig, bindRestricted, freshNamespace, restrictedKubeconfigPath } from '../integration/helpers.js';
import { waiterIds } from '../support/waiters.js';
import { cleanup, History, json, koncli, linesOf, ms, Report, sleep, startGroup, startKoncli, until, workDir, type Proc } from './support.js';

const report = new Report('transient');
/** Slow requests the throttled user's other client keeps in flight. */
const LOAD_CONCURRENCY = 3;
/** How long the waiters wait while throttled. */
const THROTTLED_MS = 4000;
let dir: string;

beforeAll(() => {
  dir = workDir('transient');
});
afterAll(() => {
  cleanup();
  report.save();
});

const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const waitersOf = (ns: string, name: string): Promise<string[]> => waiterIds(adminConfig(), ns, name);
/** HTTP answers with `status` in a koncli -v log. */
const answers = (stderr: string, status: number) => (stderr.match(new RegExp(`-> ${status}\\b`, 'g')) ?? []).length;

test('a 20 s admission-webhook outage (every Lease write answers 500): waiters and a lease run come through', async () => {
  const ns = await freshNamespace('rel-webhook');
  const OUTAGE_MS = 20_000;
  // Holders: `held` until released after the outage; `expiring` runs out during it.
  for (const [lease, ttl] of [
    ['held', '5m'],
    ['expiring', '8s'],
  ]) {
    expect((await koncli(ns, 'lease', 'acquire', lease, '--holder', 'boss', '--ttl', ttl, '--timeout', '0')).code).toBe(0);
  }
  const log = join(dir, 'run.log');
  const stop = join(dir, 'run.stop');
  const history = await History.start<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, 'run');
  // renew every 20 s, renew deadline 40 s: the first renewal falls in the outage. The command runs until told to stop.
  const command = `echo start >> ${log}; while [ ! -e ${stop} ]; do sleep 0.2; done; echo done >> ${log}`;
  const run = startKoncli(ns, ['lease', 'run', 'run', '--holder', 'runner', '--ttl', '60s', '--json', '-v', '--', 'sh', '-c', command]);
  const waiters: Record<string, Proc> = {};
  for (const lease of ['held', 'expiring']) {
    waiters[lease] = startKoncli(ns, ['lease', 'acquire', lease, '--holder', `waiter-${lease}`, '--wait', '--timeout', '120s', '--ttl', '1m', '--json', '-v']);
    await until(`waiter-${lease} to queue`, async () => (await waitersOf(ns, lease)).includes(`waiter-${lease}`), 30_000, 100);
  }
  await until('the command to start', () => linesOf(log).includes('start'), 30_000);

  const hook = `down-${ns}`;
  let downAt: number;
  let upAt: number;
  try {
    await registerDownWebhook(hook, ns);
    downAt = Date.now();
    await sleep(OUTAGE_MS);
  } finally {
    await deleteWebhook(hook);
    upAt = await leaseWritesAre(ns, 'passing');
  }
  expect(waiters.expiring.child.exitCode).toBeNull(); // still waiting, not failed
  expect(run.child.exitCode).toBeNull();
  // The run's renewal that met the outage goes through once it is over; then its command may end.
  const renewals = () => Number(history.objects().at(-1)?.metadata?.annotations?.['koncli.dev/renewals'] ?? 0);
  await until('the run to renew after the outage', () => renewals() >= 1, 30_000, 100);
  writeFileSync(stop, '');
  const releasedAt = Date.now();
  expect((await koncli(ns, 'lease', 'release', 'held', '--holder', 'boss')).code).toBe(0);
  const [held, expiring, ran] = await Promise.all([waiters.held.done, waiters.expiring.done, run.done]);
  history.stop();

  for (const r of [held, expiring, ran]) expect([r.code, r.code ? r.stderr.split('\n').filter((l) => !l.includes('koncli: api:')) : []]).toEqual([0, []]);
  expect(json(held)).toMatchObject({ holder: 'waiter-held', outcome: 'acquired' });
  expect(json(expiring)).toMatchObject({ holder: 'waiter-expiring', outcome: 'acquired', previousHolder: 'boss' });
  expect(linesOf(log)).toEqual(['start', 'done']);
  // Each of them met the outage (its writes answered 500) and said it was retrying.
  for (const r of [held, expiring]) {
    expect(answers(r.stderr, 500)).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/HTTP 500\).*failed calling webhook.*; still waiting, retrying for up to \d+s/);
  }
  expect(answers(ran.stderr, 500)).toBeGreaterThan(0);
  expect(ran.stderr).toMatch(/renewal of lease run failed \(.*HTTP 500.*\); retrying until the renew deadline/);
  // The run's lease never changed hands: every recorded version is held by the runner until its release.
  const holders = history.objects().map((l) => l.spec?.holderIdentity ?? '');
  expect(holders.filter((h, i) => h !== 'runner' && !(h === '' && i === holders.length - 1))).toEqual([]);
  expect(json(ran).renewals).toBeGreaterThanOrEqual(1);

  // acquireTime is stamped (on this machine's clock) just before the acquiring write was sent.
  const acquiredAt = async (lease: string) => ms(String((await leases().readNamespacedLease({ name: lease, namespace: ns })).spec!.acquireTime));
  report.add(`webhook down for ${((upAt - downAt) / 1000).toFixed(1)} s (every Lease write in the namespace answered 500)`, [
    `waiters that came through: 2 of 2 (\`lease acquire --wait --timeout 120s\`); 500 answers they rode out: ${answers(held.stderr, 500)} and ${answers(expiring.stderr, 500)}`,
    `the waiter whose holder's 8 s TTL ran out during the outage took the lease ${(await acquiredAt('expiring')) - upAt} ms after the outage ended (every attempt before answered 500)`,
    `the other waiter took the lease ${(await acquiredAt('held')) - releasedAt} ms after \`lease release\` was launched (including that command's start-up)`,
    `\`lease run --ttl 60s\` (renew every 20 s, renew deadline 40 s): exit ${ran.code}, command completed, ${json(ran).renewals} renewal(s), 500 answers ridden out: ${answers(ran.stderr, 500)}; holder changes seen by an independent watch: 0`,
  ]);
}, 240_000);

test('API Priority and Fairness throttling (429 + Retry-After): lease and semaphore waiters come through', async () => {
  const ns = await freshNamespace('rel-apf');
  await bindRestricted(ns);
  const LEASES = ['apf-1', 'apf-2'];
  const SLOTS = ['s-1', 's-2'];
  for (const lease of LEASES) expect((await koncli(ns, 'lease', 'acquire', lease, '--holder', 'boss', '--ttl', '5m', '--timeout', '0')).code).toBe(0);
  for (const h of SLOTS)
    expect((await koncli(ns, 'semaphore', 'lock', 'apf-sem', '--holder', `boss-${h}`, '--max', String(SLOTS.length), '--create')).code).toBe(0);

  // The noisy neighbour: the same user's ConfigMap creates, each held 2 s by a slow webhook, fill its priority level.
  const slow = await startWebhook({ delayMs: 2000 });
  const hook = await registerWebhook(
    `slow-${ns}`,
    ns,
    { url: slow.url, caBundle: slow.caBundle },
    { apiGroup: '', resources: ['configmaps'], operations: ['CREATE'] },
  );
  const unthrottle = await throttleRestrictedUser(`koncli-test-${ns}`);
  let load: ReturnType<typeof occupyPriorityLevel> | undefined;
  try {
    await until(
      'the webhook to hold ConfigMap creates',
      async () => {
        await tryCreate(ns);
        return slow.reviews() > 0;
      },
      30_000,
      200,
    );
    load = occupyPriorityLevel(ns, LOAD_CONCURRENCY);
    const restricted = (args: string[]) =>
      startGroup(KONCLI_ARGV[0], [...KONCLI_ARGV.slice(1), ...args, '--kubeconfig', restrictedKubeconfigPath(), '-n', ns, '--json', '-v']);
    await sleep(1000);
    const procs = [
      ...LEASES.map((lease) => ({
        what: `lease ${lease}`,
        proc: restricted(['lease', 'acquire', lease, '--holder', `w-${lease}`, '--wait', '--timeout', '120s']),
      })),
      ...SLOTS.map((h) => ({ what: `semaphore ${h}`, proc: restricted(['semaphore', 'lock', 'apf-sem', '--holder', h, '--wait', '--timeout', '120s']) })),
    ];
    await sleep(THROTTLED_MS); // the waiters start and wait while every request of theirs is throttled
    const loaded = await load.stop();
    for (const lease of LEASES) expect((await koncli(ns, 'lease', 'release', lease, '--holder', 'boss')).code).toBe(0);
    for (const h of SLOTS) expect((await koncli(ns, 'semaphore', 'unlock', 'apf-sem', '--holder', `boss-${h}`)).code).toBe(0);
    const results = await Promise.all(procs.map((p) => p.proc.done));

    expect(results.map((r) => [r.code, r.code ? r.stderr.split('\n').filter((l) => !l.includes('koncli: api:')) : []])).toEqual(results.map(() => [0, []]));
    const throttled = results.map((r) => answers(r.stderr, 429));
    // Every waiter was throttled (at least its first read), said it was retrying, and came through.
    for (const r of results) expect(r.stderr).toMatch(/HTTP 429\): .*; (still waiting, )?retrying for up to \d+s/);
    expect(throttled.every((n) => n > 0)).toBe(true);
    expect(loaded.throttled).toBeGreaterThan(0);
    const sem = JSON.parse(
      (await adminConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'apf-sem', namespace: ns })).metadata!.annotations!['kube-lock'],
    );
    expect(Object.keys(sem.holders).sort()).toEqual(SLOTS);
    report.add(
      `API Priority and Fairness: the restricted user's priority level at the minimum concurrency, no queue (Reject), kept full for ${THROTTLED_MS / 1000} s by ${LOAD_CONCURRENCY} slow requests of the same user`,
      [
        `waiters that came through: ${results.filter((r) => r.code === 0).length} of ${results.length} (${LEASES.length} \`lease acquire --wait\`, ${SLOTS.length} \`semaphore lock --wait\`), each started while throttled`,
        `429 answers each waiter rode out: ${procs.map((p, i) => `${p.what} ${throttled[i]}`).join(', ')}; Retry-After values the server sent to the load: ${loaded.retryAfter.join(', ')} s`,
        `the load's requests: ${loaded.created} served (2 s each), ${loaded.throttled} rejected with 429`,
        `waiters' wall time (${THROTTLED_MS / 1000} s throttled, then the holders left): ${results.map((r) => `${(r.ms / 1000).toFixed(1)} s`).join(', ')}`,
      ],
    );
  } finally {
    await load?.stop().catch(() => {});
    await unthrottle();
    await deleteWebhook(hook);
    slow.server.close();
  }
}, 240_000);

/** A ConfigMap create as admin (not throttled), to see the slow webhook answer. */
async function tryCreate(ns: string): Promise<void> {
  await adminConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `probe-${Date.now().toString(36)}` } } })
    .catch(() => {});
}
