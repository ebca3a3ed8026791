// The waiter queue through the real CLI (docs/lease.md, "Waiting"): each waiter keeps a candidate
// Lease of its own, the lease goes by priority then arrival, a waiter killed with SIGKILL is skipped
// once its candidate goes stale (and the candidate is garbage-collected), a waiter deletes its
// candidate when it stops waiting, and an older koncli (KONCLI_TEST_OLD_BIN: an older checkout's
// bin/run.js, built) waiting on the same lease never holds it at the same time as a new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { until } from '../support/poll.js';
import { candidatesOf, legacyWaiterIds, waiterIds } from '../support/waiters.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)]);
const holderOf = async (name: string) => (await leases().readNamespacedLease({ name, namespace: ns })).spec?.holderIdentity ?? '';
const queued = (name: string, id: string) => until(`${id} to queue`, async () => (await waiterIds(adminConfig(), ns, name)).includes(id), 30_000);
const wait = (name: string, id: string, priority = 0, timeout = '120s') =>
  spawnKoncli(['lease', 'acquire', name, '--holder', id, '--wait', '--timeout', timeout, '--priority', String(priority), '--json', ...clusterArgs(admin, ns)]);

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('lease-queue');
});

test('heartbeats renew the candidates, never the lease the waiters watch', async () => {
  expect((await koncli('lease', 'acquire', 'quiet', '--holder', 'holder', '--timeout', '0')).code).toBe(0);
  const children = ['w1', 'w2', 'w3'].map((id) => wait('quiet', id));
  const done = children.map((c) => collect(c, Date.now(), { timeoutMs: 120_000 }));
  for (const id of ['w1', 'w2', 'w3']) await queued('quiet', id);
  const before = (await leases().readNamespacedLease({ name: 'quiet', namespace: ns })).metadata?.resourceVersion;
  const renewTimes = async () => (await candidatesOf(adminConfig(), ns, 'quiet')).map((c) => String(c.spec?.renewTime)).sort();
  const first = await renewTimes();
  // Heartbeats come every 11.25–15 s: after 16 s every candidate was renewed, and the lease was not touched.
  await new Promise((r) => setTimeout(r, 16_000));
  const later = await renewTimes();
  expect(later).toHaveLength(3);
  for (let i = 0; i < 3; i++) expect(later[i]).not.toBe(first[i]);
  expect((await leases().readNamespacedLease({ name: 'quiet', namespace: ns })).metadata?.resourceVersion).toBe(before);
  for (const c of children) c.kill('SIGINT');
  for (const r of await Promise.all(done)) expect(r.code).toBe(3);
  // Ctrl-C leaves the queue: every candidate deleted.
  expect(await waiterIds(adminConfig(), ns, 'quiet')).toEqual([]);
}, 90_000);

test('a waiter that times out deletes its candidate; the one that acquires deletes its own too', async () => {
  expect((await koncli('lease', 'acquire', 'tidy', '--holder', 'holder', '--timeout', '0')).code).toBe(0);
  const quitter = collect(wait('tidy', 'quitter', 0, '3s'));
  const taker = collect(wait('tidy', 'taker'));
  await queued('tidy', 'taker');
  expect((await quitter).code).toBe(3);
  expect(await waiterIds(adminConfig(), ns, 'tidy')).toEqual(['taker']);
  expect((await koncli('lease', 'release', 'tidy', '--holder', 'holder')).code).toBe(0);
  expect((await taker).code).toBe(0);
  expect(await waiterIds(adminConfig(), ns, 'tidy')).toEqual([]);
  // lease status lists no candidate as a lease of its own.
  expect((await koncli('lease', 'status')).stdout).not.toMatch(/waiter-/);
});

test('a waiter killed with SIGKILL is skipped once its candidate goes stale, and its candidate is deleted', async () => {
  expect((await koncli('lease', 'acquire', 'ghosted', '--holder', 'holder', '--timeout', '0')).code).toBe(0);
  const ghost = wait('ghosted', 'ghost', 10);
  await queued('ghosted', 'ghost');
  ghost.kill('SIGKILL');
  const alive = collect(wait('ghosted', 'alive', 1, '150s'), Date.now(), { timeoutMs: 160_000 });
  await queued('ghosted', 'alive');
  const status = JSON.parse((await koncli('lease', 'status', 'ghosted', '--json')).stdout);
  expect(status.waiters.map((w: { id: string }) => w.id)).toEqual(['ghost', 'alive']); // by priority
  expect((await koncli('lease', 'release', 'ghosted', '--holder', 'holder')).code).toBe(0);
  const releasedAt = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  expect(await holderOf('ghosted')).toBe(''); // the ghost ranks first until it is judged stale
  const result = await alive;
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ holder: 'alive', outcome: 'acquired' });
  // Stale after STALE_AFTER_MS (45 s) since its last heartbeat, judged on the waiter's clock.
  expect(Date.now() - releasedAt).toBeLessThan(120_000);
  expect(await waiterIds(adminConfig(), ns, 'ghosted')).toEqual([]);
}, 180_000);

const OLD_BIN = process.env.KONCLI_TEST_OLD_BIN;
const withOld = OLD_BIN && existsSync(OLD_BIN) ? test : test.skip;
if (!OLD_BIN) process.stderr.write("SKIPPED: mixed old/new koncli queue: set KONCLI_TEST_OLD_BIN to an older build's bin/run.js\n");

withOld(
  "an older koncli and this one on one lease: the old entry's order is honoured, and never two holders",
  async () => {
    const old = (id: string): ChildProcess =>
      spawn(process.execPath, [OLD_BIN!, 'lease', 'acquire', 'mixed', '--holder', id, '--wait', '--timeout', '120s', '--json', ...clusterArgs(admin, ns)], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    expect((await koncli('lease', 'acquire', 'mixed', '--holder', 'holder', '--timeout', '0')).code).toBe(0);
    const exits: string[] = [];
    const track = (id: string, p: Promise<CliResult>) => p.then((r) => (exits.push(id), r));
    const fresh = track('new', collect(wait('mixed', 'new'), Date.now(), { timeoutMs: 120_000 }));
    await queued('mixed', 'new');
    const older = track('old', collect(old('old'), Date.now(), { timeoutMs: 120_000 }));
    const legacy = async () => legacyWaiterIds((await leases().readNamespacedLease({ name: 'mixed', namespace: ns })).metadata?.annotations);
    await until('the old koncli to queue in the annotation', async () => (await legacy()).includes('old'), 30_000);
    // Equal priorities: the older koncli's entry ranks first (documented), the new one waits for it.
    expect((await koncli('lease', 'release', 'mixed', '--holder', 'holder')).code).toBe(0);
    await until('the first holder', async () => (await holderOf('mixed')) !== '', 30_000);
    expect(await holderOf('mixed')).toBe('old');
    const first = await older;
    expect(first.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(exits).toEqual(['old']); // the new one still waits: one holder at a time
    expect(await holderOf('mixed')).toBe('old');
    expect((await koncli('lease', 'release', 'mixed', '--holder', 'old')).code).toBe(0);
    const second = await fresh;
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).holder).toBe('new');
    expect(BigInt(JSON.parse(second.stdout).fencingToken)).toBeGreaterThan(BigInt(JSON.parse(first.stdout).fencingToken));
    expect(await legacy()).toEqual([]);
  },
  150_000,
);

withOld(
  'many old and new waiters racing for one lease: each handover gives it to exactly one',
  async () => {
    expect((await koncli('lease', 'acquire', 'race', '--holder', 'holder', '--timeout', '0')).code).toBe(0);
    const spawnOld = (id: string) =>
      spawn(process.execPath, [OLD_BIN!, 'lease', 'acquire', 'race', '--holder', id, '--wait', '--timeout', '150s', '--json', ...clusterArgs(admin, ns)], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    const ids = ['old-1', 'new-1', 'old-2', 'new-2'];
    const done = new Map<string, CliResult>();
    const all = ids.map((id) =>
      collect(
        id.startsWith('old')
          ? spawnOld(id)
          : spawnKoncli(['lease', 'acquire', 'race', '--holder', id, '--wait', '--timeout', '150s', '--json', ...clusterArgs(admin, ns)]),
        Date.now(),
        {
          timeoutMs: 160_000,
        },
      ).then((r) => done.set(id, r)),
    );
    await until(
      'all four to queue',
      async () => {
        const lease = await leases().readNamespacedLease({ name: 'race', namespace: ns });
        const n = legacyWaiterIds(lease.metadata?.annotations).length + (await waiterIds(adminConfig(), ns, 'race')).length;
        return n === 4;
      },
      60_000,
    );
    let previous = 'holder';
    const order: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      expect((await koncli('lease', 'release', 'race', '--holder', previous)).code).toBe(0);
      await until(`holder ${i + 1}`, async () => done.size === i + 1, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(done.size).toBe(i + 1); // exactly one acquired per release
      const winner = [...done.keys()].at(-1)!;
      expect(done.get(winner)!.code).toBe(0);
      expect(await holderOf('race')).toBe(winner);
      order.push(winner);
      previous = winner;
    }
    await Promise.all(all);
    expect(new Set(order).size).toBe(4);
    process.stderr.write(`[measure] mixed old/new handover order: ${order.join(', ')}\n`);
  },
  300_000,
);
