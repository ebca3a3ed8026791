// Semaphores under churn with holders that die: 30 lockers on one semaphore of max 5, random hold
// times, some holders with --ttl killed (SIGKILL) without unlocking. An independent watch records
// every version of the ConfigMap. (test/integration/semaphore.test.ts covers 20 well-behaved
// lockers on max 3 and one TTL expiry.)
//
// What "never more than max live holders" means here: koncli prunes lapsed holders in every write
// it makes, so each version carries only holders its writer judged live; the watch asserts the
// stricter count of *all* entries ≤ max. Judging by the holders' own deadlines adds one more
// check: when a holder is admitted at time t (just before its write was sent), the entries of that
// version plus the dead holders already pruned whose own deadline (`heldUntil`) was still ahead at
// t must not exceed max — a dead holder's slot is never handed out before its TTL ran out.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { join } from 'node:path';
import { freshNamespace } from '../integration/helpers.js';
import { cleanup, figures, fmtMs, History, linesOf, prng, Report, startShell, until, workDir, type Proc } from './support.js';

const SEM = 'pool';
const MAX = 5;
const DEAD_TTL = 6;
const LIVE_TTL = 60;

const report = new Report('semaphore');
let ns: string;
let dir: string;

beforeAll(async () => {
  ns = await freshNamespace('rel-semaphore');
  dir = workDir('semaphore');
});
afterAll(() => {
  cleanup();
  report.save();
});

interface Locker {
  id: string;
  ttl?: number;
  holdSeconds: number;
  /** Killed with SIGKILL this long after it locked; never unlocks. */
  killAfterMs?: number;
  proc?: Proc;
  killedAt?: number;
}

const outFile = (l: Locker) => join(dir, `${l.id}.json`);
const markFile = (l: Locker) => join(dir, `${l.id}.locked`);

function start(l: Locker): Proc {
  const ttl = l.ttl ? `--ttl ${l.ttl}s` : '';
  const hold = l.killAfterMs === undefined ? l.holdSeconds : 600;
  return (l.proc = startShell(
    ns,
    [
      `k semaphore lock ${SEM} --holder ${l.id} --max ${MAX} --create --wait --timeout 300s ${ttl} --json > ${outFile(l)} || exit $?`,
      `echo locked > ${markFile(l)}`,
      `sleep ${hold}`,
      `k semaphore unlock ${SEM} --holder ${l.id} --json > ${outFile(l)}.unlock`,
    ].join('\n'),
  ));
}

async function killOnceLocked(l: Locker): Promise<void> {
  await until(`${l.id} to lock`, () => linesOf(markFile(l)).length > 0, 300_000);
  await new Promise((r) => setTimeout(r, l.killAfterMs));
  l.proc!.signal('SIGKILL');
  l.killedAt = Date.now();
  await l.proc!.done;
}

const holdersOf = (cm: V1ConfigMap) => Object.keys(JSON.parse(cm.metadata?.annotations?.['kube-lock'] ?? '{"holders":{}}').holders ?? {});
const lockResult = (l: Locker) => JSON.parse(linesOf(outFile(l)).join('\n'));

test(`30 lockers on max ${MAX}, some with --ttl killed without unlocking: never more than ${MAX} holders; dead slots return after their TTL`, async () => {
  const random = prng(20260801);
  const history = await History.start<V1ConfigMap>(`/api/v1/namespaces/${ns}/configmaps`, SEM);
  // Five TTL holders take every slot and die at once: everyone else must wait out their TTL.
  const earlyDead: Locker[] = Array.from({ length: MAX }, (_, i) => ({ id: `dead-${i}`, ttl: DEAD_TTL, holdSeconds: 0, killAfterMs: 0 }));
  earlyDead.forEach(start);
  await Promise.all(earlyDead.map(killOnceLocked));
  // Then 25 more: three TTL holders that die a moment after locking, the rest lock, work, unlock.
  const rest: Locker[] = Array.from({ length: 25 }, (_, i) => {
    const holdSeconds = Math.round((0.2 + random() * 1.3) * 100) / 100;
    if (i % 8 === 3) return { id: `late-dead-${i}`, ttl: DEAD_TTL, holdSeconds, killAfterMs: Math.round(200 + random() * 600) };
    return { id: `worker-${i}`, ttl: i % 2 ? LIVE_TTL : undefined, holdSeconds };
  });
  const restStarted = Date.now();
  rest.forEach(start);
  const outcomes = await Promise.all(
    rest.map(async (l) => (l.killAfterMs === undefined ? { id: l.id, code: (await l.proc!.done).code } : (await killOnceLocked(l), { id: l.id, code: 0 }))),
  );
  const restMs = Date.now() - restStarted;
  expect(outcomes.filter((o) => o.code !== 0)).toEqual([]);

  const lockers = [...earlyDead, ...rest];
  const dead = lockers.filter((l) => l.killAfterMs !== undefined);
  const heldUntil = new Map(lockers.filter((l) => l.ttl).map((l) => [l.id, Date.parse(lockResult(l).heldUntil)]));
  const sentAt = (l: Locker) => heldUntil.get(l.id)! - l.ttl! * 1000;

  // Once every dead holder's own deadline has passed, five new lockers must all get in.
  await until('every dead holder to reach its deadline', () => Date.now() > Math.max(...dead.map((d) => heldUntil.get(d.id)!)), 60_000);
  const finals: Locker[] = Array.from({ length: MAX }, (_, i) => ({ id: `final-${i}`, ttl: LIVE_TTL, holdSeconds: 600 }));
  finals.forEach(start);
  await until('the final lockers to lock', () => finals.every((f) => linesOf(markFile(f)).length > 0), 60_000);
  const lastVersion = finals.map((f) => BigInt(lockResult(f).resourceVersion)).reduce((a, b) => (a > b ? a : b));
  await history.caughtUp(String(lastVersion));
  finals.forEach((f) => f.proc!.signal('SIGKILL'));
  history.stop();
  history.dump(join(dir, 'history.jsonl'));

  const versions = history.versions
    .filter((v) => v.type !== 'DELETED')
    .map((v) => ({ at: v.at, holders: holdersOf(v.object), rv: v.object.metadata!.resourceVersion! }));
  expect(history.versions.filter((v) => v.type === 'DELETED')).toEqual([]);
  expect(versions.at(-1)!.holders.sort()).toEqual(finals.map((f) => f.id).sort());
  const maxSeen = Math.max(...versions.map((v) => v.holders.length));
  expect(maxSeen).toBeLessThanOrEqual(MAX);

  // Every locker that reported success is in the record.
  const everHeld = new Set(versions.flatMap((v) => v.holders));
  expect(lockers.filter((l) => !everHeld.has(l.id)).map((l) => l.id)).toEqual([]);

  // Admissions against the holders' own deadlines.
  const byId = new Map(lockers.concat(finals).map((l) => [l.id, l]));
  const admitted = new Set<string>();
  const overfull: string[] = [];
  const prunedAt = new Map<string, number>();
  for (let i = 0; i < versions.length; i++) {
    const now = new Set(versions[i].holders);
    for (const id of admitted) if (!now.has(id) && !prunedAt.has(id) && byId.get(id)?.killAfterMs !== undefined) prunedAt.set(id, versions[i].at);
    for (const id of versions[i].holders.filter((h) => !admitted.has(h))) {
      const l = byId.get(id)!;
      const t = l.ttl ? sentAt(l) : versions[i].at;
      const stillOwed = dead.filter((d) => admitted.has(d.id) && !now.has(d.id) && heldUntil.get(d.id)! > t);
      if (now.size + stillOwed.length > MAX)
        overfull.push(`${id} admitted at rv ${versions[i].rv} while ${stillOwed.map((d) => d.id).join(', ')} still had time`);
    }
    versions[i].holders.forEach((h) => admitted.add(h));
  }
  expect(overfull).toEqual([]);
  expect(dead.filter((d) => !prunedAt.has(d.id)).map((d) => d.id)).toEqual([]);

  // With waiters queued, the early dead holders' slots came back promptly after their TTL.
  const returnAfterDeadline = earlyDead.map((d) => prunedAt.get(d.id)! - heldUntil.get(d.id)!);
  const returnAfterDeath = earlyDead.map((d) => prunedAt.get(d.id)! - d.killedAt!);
  for (const ms of returnAfterDeath) expect(ms).toBeLessThanOrEqual(DEAD_TTL * 1000 + 8000); // generous: a loaded 2-core machine
  for (const ms of returnAfterDeadline) expect(ms).toBeGreaterThanOrEqual(0);

  report.add(`30 lockers on a semaphore of max ${MAX} (${dead.length} killed with --ttl ${DEAD_TTL}s, never unlocking)`, [
    `ConfigMap versions recorded: ${versions.length}; most holder entries in any version: ${maxSeen} (max ${MAX}); admissions over max counting unexpired dead holders: ${overfull.length}`,
    `lockers that reported success: ${lockers.length}, all in the recorded history; the 25 after the first deaths finished in ${(restMs / 1000).toFixed(1)} s`,
    `early dead holders (all ${MAX} slots): slot back after the holder's own deadline: ${fmtMs(figures(returnAfterDeadline))}; after SIGKILL: ${fmtMs(figures(returnAfterDeath))}`,
    `late dead holders: slot back after their own deadline: ${fmtMs(figures(dead.filter((d) => !earlyDead.includes(d)).map((d) => prunedAt.get(d.id)! - heldUntil.get(d.id)!)))}`,
    `after every dead holder's deadline, ${MAX} new lockers all got a slot (all dead slots returned)`,
  ]);
}, 300_000);
