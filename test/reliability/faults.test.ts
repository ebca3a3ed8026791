// Faults on the real control plane: holders killed (SIGKILL) or frozen (SIGSTOP) for `lease run`,
// `semaphore lock --ttl` and `kubelock annotate`; kube-apiserver stopped past the renew deadline
// during `lease run`; etcd crashed and restarted under load; waiters across an API-server outage.
//
// Takeover times are checked against each holder's *own* deadline, on this machine's clock (the
// plane runs here, so every process shares it): the successor's decision (or its command's start)
// is never before it, and comes within the TTL plus a generous bound of the fault.
// lease-run.test.ts already proves that a continued frozen `lease run` stops its command at once,
// and apiserver-restart.test.ts that an API-server restart shorter than the renew deadline leaves the command alone.
import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { join } from 'node:path';
import { adminConfig, freshNamespace } from '../integration/helpers.js';
import { waiterIds } from '../support/waiters.js';
// @ts-expect-error plain ESM module without types
import { restartEtcd, startApiserver, stopApiserver, stopEtcd } from '../cluster/plane.mjs';
import {
  checkExclusion,
  cleanup,
  History,
  json,
  koncli,
  linesOf,
  ms,
  Report,
  sectionScript,
  sectionStarted,
  sleep,
  startKoncli,
  startShell,
  until,
  workDir,
  type Proc,
} from './support.js';

const report = new Report('faults');
let ns: string;
let dir: string;
let script: string;
const leasesPath = () => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
const takeovers: string[] = [];
/** Successors take their claim for long, so a thawed holder's next attempt surely finds it taken. */
const HEIR_TTL = 60;

beforeAll(async () => {
  ns = await freshNamespace('rel-faults');
  dir = workDir('faults');
  script = sectionScript(dir);
});
afterAll(() => {
  cleanup();
  if (takeovers.length) report.add('takeover after a holder died or froze (successor vs the holder’s own deadline)', takeovers);
  report.save();
});

type Fault = 'SIGKILL' | 'SIGSTOP';

/** Freezes or kills `proc`'s whole process group; returns when it happened. */
function strike(proc: Proc, fault: Fault): number {
  proc.signal(fault);
  return Date.now();
}

describe.each<Fault>(['SIGKILL', 'SIGSTOP'])('a holder hit by %s', (fault) => {
  const tag = fault.toLowerCase();

  test('lease run: the successor starts no earlier than the holder’s deadline, within TTL + bound', async () => {
    const TTL = 4;
    const lease = `run-${tag}`;
    const log = join(dir, `${lease}.log`);
    const history = await History.start<V1Lease>(leasesPath(), lease);
    const victim = startKoncli(ns, ['lease', 'run', lease, '--holder', 'victim', '--ttl', `${TTL}s`, '--', script, log, 'victim', '600']);
    await until('the victim to run its command', () => sectionStarted(log, 'victim'), 60_000);
    await until('a renewal', () => Number(history.objects().at(-1)?.metadata?.annotations?.['koncli.dev/renewals'] ?? 0) >= 1, 30_000);
    const faultAt = strike(victim, fault);
    const heir = await startKoncli(ns, [
      'lease',
      'run',
      lease,
      '--holder',
      'heir',
      '--wait',
      '--timeout',
      '60s',
      '--ttl',
      `${TTL}s`,
      '--',
      script,
      log,
      'heir',
      '0.1',
    ]).done;
    expect(heir.code).toBe(0);
    const heirStart = checkExclusion(log).sections.find((s) => s.id === 'heir')!.start;
    const lastRenewal = history
      .objects()
      .filter((l) => l.spec?.holderIdentity === 'victim')
      .at(-1)!;
    // renewTime is stamped just before the renewal is sent: renewTime + TTL bounds the victim's claim from above.
    const deadline = ms(String(lastRenewal.spec!.renewTime)) + TTL * 1000;
    history.stop();
    if (fault === 'SIGSTOP') {
      victim.signal('SIGCONT');
      expect((await victim.done).code).toBe(4); // lost: its command stopped (timing proven in lease-run.test.ts)
    }
    expect(heirStart).toBeGreaterThanOrEqual(deadline);
    expect(heirStart - faultAt).toBeLessThanOrEqual(TTL * 1000 + 8000);
    takeovers.push(
      `lease run, ${fault}, TTL ${TTL}s: successor's command started ${heirStart - deadline} ms after the holder's deadline (last renewal + TTL), ${heirStart - faultAt} ms after the ${fault}`,
    );
  }, 120_000);

  /** A holder that re-takes its claim every second with `take` (a koncli command printing JSON); stopped after a success. */
  async function refreshingHolder(name: string, take: string): Promise<{ proc: Proc; faultAt: number; last: any; marks: string }> {
    const out = join(dir, `${name}.json`);
    const marks = join(dir, `${name}.marks`);
    const proc = startShell(
      ns,
      `while :; do if ${take} > ${out}.tmp; then mv ${out}.tmp ${out}; echo ok >> ${marks}; else echo "failed $?" >> ${marks}; fi; sleep 1; done`,
    );
    await until(`${name} to hold twice`, () => linesOf(marks).filter((l) => l === 'ok').length >= 2, 60_000);
    const seen = linesOf(marks).length;
    await until(`${name} to refresh again`, () => linesOf(marks).length > seen, 30_000, 10);
    const faultAt = strike(proc, fault); // during its `sleep 1`: no write in flight
    return { proc, faultAt, last: JSON.parse(linesOf(out).join('\n')), marks };
  }

  async function afterFault(h: { proc: Proc; marks: string }): Promise<void> {
    if (fault === 'SIGSTOP') {
      const seen = linesOf(h.marks).length;
      h.proc.signal('SIGCONT');
      // Thawed, it finds its claim taken: its next attempt fails (busy), it does not get it back.
      await until('the thawed holder to try again', () => linesOf(h.marks).length > seen, 30_000);
      expect(linesOf(h.marks)[seen]).toBe('failed 3');
    }
    h.proc.signal('SIGKILL');
    await h.proc.done;
  }

  test('semaphore lock --ttl: the slot is not handed on before the holder’s own deadline', async () => {
    const TTL = 6;
    const sem = `sem-${tag}`;
    const h = await refreshingHolder(`sem-victim-${tag}`, `k semaphore lock ${sem} --holder victim --max 1 --create --ttl ${TTL}s --json`);
    const heir = await koncli(ns, 'semaphore', 'lock', sem, '--holder', 'heir', '--wait', '--timeout', '60s', '--ttl', `${HEIR_TTL}s`, '--json');
    expect(heir.code).toBe(0);
    const victimDeadline = Date.parse(h.last.heldUntil);
    const heirDecided = Date.parse(json(heir).heldUntil) - HEIR_TTL * 1000; // the moment it judged the slot free
    await afterFault(h);
    expect(heirDecided).toBeGreaterThanOrEqual(victimDeadline);
    expect(heirDecided - h.faultAt).toBeLessThanOrEqual(TTL * 1000 + 8000);
    takeovers.push(
      `semaphore --ttl ${TTL}s, ${fault}: successor decided ${heirDecided - victimDeadline} ms after the holder's heldUntil, ${heirDecided - h.faultAt} ms after the ${fault}`,
    );
  }, 120_000);

  test('kubelock annotate: the lock is not taken before the owner’s own deadline', async () => {
    const TTL = 6;
    const target = `target-${tag}`;
    await adminConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: target } } });
    const h = await refreshingHolder(`lock-victim-${tag}`, `k kubelock annotate configmap/${target} --lock job --owner victim --ttl ${TTL}s --json`);
    const heir = await koncli(
      ns,
      'kubelock',
      'annotate',
      `configmap/${target}`,
      '--lock',
      'job',
      '--owner',
      'heir',
      '--wait',
      '--timeout',
      '60s',
      '--ttl',
      `${HEIR_TTL}s`,
      '--json',
    );
    expect(heir.code).toBe(0);
    // createdAt is written from this machine's clock just before the write is sent.
    const victimDeadline = ms(h.last.createdAt) + TTL * 1000;
    const heirDecided = ms(json(heir).createdAt);
    await afterFault(h);
    expect(json(heir).previousOwner).toBe('victim');
    expect(heirDecided).toBeGreaterThanOrEqual(victimDeadline);
    expect(heirDecided - h.faultAt).toBeLessThanOrEqual(TTL * 1000 + 8000);
    takeovers.push(
      `kubelock --ttl ${TTL}s, ${fault}: successor decided ${heirDecided - victimDeadline} ms after the owner's deadline (createdAt + TTL), ${heirDecided - h.faultAt} ms after the ${fault}`,
    );
  }, 120_000);
});

describe('control-plane outages', () => {
  test('kube-apiserver down past the renew deadline: the command is stopped before the TTL could run out, exit 4; afterwards a new run acquires', async () => {
    const TTL = 9;
    const lease = 'api-down';
    const log = join(dir, `${lease}.log`);
    const history = await History.start<V1Lease>(leasesPath(), lease);
    const command = `trap 'echo "term $(date +%s%3N)" >> ${log}; exit 0' TERM; echo "start $(date +%s%3N)" >> ${log}; while :; do sleep 0.05; done`;
    const holder = startKoncli(ns, [
      'lease',
      'run',
      lease,
      '--holder',
      'steady',
      '--ttl',
      `${TTL}s`,
      '--kill-after',
      '1s',
      '--json',
      '--',
      'sh',
      '-c',
      command,
    ]);
    await until('the command to start', () => linesOf(log).length > 0, 60_000);
    await until('a renewal', () => Number(history.objects().at(-1)?.metadata?.annotations?.['koncli.dev/renewals'] ?? 0) >= 1, 30_000);
    await stopApiserver(undefined, { graceMs: 0 });
    const downAt = Date.now();
    let result;
    try {
      result = await holder.done;
      await sleep(downAt + (TTL + 2) * 1000 - Date.now()); // down for longer than the TTL
    } finally {
      await startApiserver();
    }
    const upAt = Date.now();
    const termAt = Number(
      linesOf(log)
        .find((l) => l.startsWith('term '))
        ?.split(' ')[1],
    );
    const lastRenewal = history
      .objects()
      .filter((l) => l.spec?.holderIdentity === 'steady')
      .at(-1)!;
    const renewedAt = ms(String(lastRenewal.spec!.renewTime));
    history.stop();
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/renew deadline/);
    // The holder's claim runs from when its last successful renewal was sent (≥ renewTime − 1 s,
    // allowing for a slow stamp); the command must have had its signal before that + TTL.
    expect(termAt).toBeLessThan(renewedAt - 1000 + TTL * 1000);

    const next = await koncli(ns, 'lease', 'run', lease, '--holder', 'after', '--wait', '--timeout', '60s', '--json', '--', 'true');
    expect(next.code).toBe(0);
    expect(BigInt(json(next).fencingToken)).toBeGreaterThan(BigInt(json(result).fencingToken));
    report.add(`kube-apiserver stopped (crash) for ${((upAt - downAt) / 1000).toFixed(1)} s during \`lease run --ttl ${TTL}s\``, [
      `command signalled ${termAt - renewedAt} ms after the last successful renewal's renewTime (renew deadline ${(TTL * 2000) / 3} ms, TTL ${TTL * 1000} ms): ${renewedAt + TTL * 1000 - termAt} ms before the TTL could run out`,
      `koncli exit ${result.code} (lost), ${termAt - downAt} ms after the API server went down`,
      `after the restart a new run acquired (exit ${next.code}) with fencing token ${json(next).fencingToken} > ${json(result).fencingToken}`,
    ]);
  }, 180_000);

  test('etcd crashed and restarted under load: every reported success is in the final state', async () => {
    const N = 14;
    const started: { kind: 'lease' | 'semaphore'; id: string; proc: Proc }[] = [];
    const launcher = (async () => {
      for (let i = 0; i < N; i++) {
        started.push({
          kind: 'lease',
          id: `l-${i}`,
          proc: startKoncli(ns, ['lease', 'acquire', `etcd-${i}`, '--holder', `l-${i}`, '--ttl', '10m', '--timeout', '0', '--json']),
        });
        started.push({
          kind: 'semaphore',
          id: `s-${i}`,
          proc: startKoncli(ns, ['semaphore', 'lock', 'etcd-sem', '--holder', `s-${i}`, '--max', '100', '--create', '--json']),
        });
        await sleep(300);
      }
    })();
    await sleep(1200);
    await stopEtcd(undefined, { graceMs: 0 });
    await sleep(2000);
    await restartEtcd(); // starts it on the same data dir and waits for the API server to be ready
    await launcher;
    const results = await Promise.all(started.map(async (s) => ({ ...s, result: await s.proc.done })));

    const leases = adminConfig().makeApiClient(CoordinationV1Api);
    const phantom: string[] = [];
    const ambiguous: string[] = [];
    for (const r of results.filter((x) => x.kind === 'lease')) {
      const lease = await leases.readNamespacedLease({ name: `etcd-${r.id.slice(2)}`, namespace: ns }).catch(() => undefined);
      const there = lease?.spec?.holderIdentity === r.id;
      if (r.result.code === 0 && !(there && lease?.metadata?.resourceVersion === json(r.result).fencingToken))
        phantom.push(`${r.id}: exit 0, lease shows ${JSON.stringify(lease?.spec?.holderIdentity)} at ${lease?.metadata?.resourceVersion}`);
      if (r.result.code !== 0 && there) ambiguous.push(r.id);
    }
    const cm = await adminConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'etcd-sem', namespace: ns });
    const holders = Object.keys(JSON.parse(cm.metadata?.annotations?.['kube-lock'] ?? '{}').holders ?? {});
    for (const r of results.filter((x) => x.kind === 'semaphore')) {
      if (r.result.code === 0 && !holders.includes(r.id)) phantom.push(`${r.id}: exit 0, not a holder`);
      if (r.result.code !== 0 && holders.includes(r.id)) ambiguous.push(r.id);
    }
    expect(phantom).toEqual([]);
    const codes = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [String(r.result.code)]: (acc[String(r.result.code)] ?? 0) + 1 }), {});
    expect(Object.keys(codes).every((c) => ['0', '1', '3', '8'].includes(c))).toBe(true);
    report.add(`etcd killed for ≈2 s while ${2 * N} one-shot writers ran (${N} \`lease acquire\`, ${N} \`semaphore lock\`)`, [
      `exit codes: ${Object.entries(codes)
        .map(([c, n]) => `${n}× ${c}`)
        .join(', ')}`,
      `successes not reflected in the final state: ${phantom.length}`,
      `failures whose write did happen (reported failure, e.g. a timed-out response): ${ambiguous.length}${ambiguous.length ? ` (${ambiguous.join(', ')})` : ''}`,
    ]);
  }, 180_000);

  test('waiters across an API-server outage longer than their heartbeat: they resume and acquire in priority order', async () => {
    const lease = 'prio';
    const log = join(dir, `${lease}.log`);
    expect((await koncli(ns, 'lease', 'acquire', lease, '--holder', 'boss', '--ttl', '5m', '--timeout', '0')).code).toBe(0);
    const history = await History.start<V1Lease>(leasesPath(), lease);
    const queued = () => waiterIds(adminConfig(), ns, lease);
    const waiters: Proc[] = [];
    for (const p of [1, 9, 3, 5]) {
      waiters.push(
        startKoncli(ns, [
          'lease',
          'run',
          lease,
          '--holder',
          `w-${p}`,
          '--priority',
          String(p),
          '--wait',
          '--timeout',
          '150s',
          '--',
          script,
          log,
          `w-${p}`,
          '0.2',
        ]),
      );
      await until(`w-${p} to queue`, async () => (await queued()).includes(`w-${p}`), 30_000);
    }
    await stopApiserver();
    const downAt = Date.now();
    try {
      await sleep(16_000); // every waiter's 15 s heartbeat falls in the outage
    } finally {
      await startApiserver();
    }
    const upAt = Date.now();
    await sleep(1000);
    const releaseAt = Date.now();
    const released = await koncli(ns, 'lease', 'release', lease, '--holder', 'boss');
    expect(released.code).toBe(0);
    const results = await Promise.all(waiters.map((w) => w.done));
    history.stop();
    expect(results.map((r) => [r.code, r.code ? r.stderr : ''])).toEqual(results.map(() => [0, '']));
    const check = checkExclusion(log);
    expect(check.overlaps).toEqual([]);
    expect(check.sections.map((s) => s.id)).toEqual(['w-9', 'w-5', 'w-3', 'w-1']);
    report.add(`4 waiters (priorities 1, 9, 3, 5) across a ${((upAt - downAt) / 1000).toFixed(1)} s kube-apiserver outage`, [
      `all resumed and ran, in order ${check.sections.map((s) => s.id).join(', ')}; watch reconnects of the test's own recorder: ${history.reconnects}`,
      `the first waiter's command started ${check.sections[0].start - releaseAt} ms after \`lease release\` was launched (including that command's own start-up)`,
    ]);
  }, 180_000);
});
