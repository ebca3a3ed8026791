// `lease run` and the processes its command starts (docs/lease-run.md): for each kind of
// descendant — same process group, own session (setsid), double-forked daemon (slow and fast),
// nohup'd job left behind, nohup'd job waited for (--orphans wait), and a lost lease — koncli must leave none
// running when it exits, and must not release the lease while one runs.
//
// Each run has a contender (`lease acquire --wait`, watching) that takes the lease the moment it
// is free, and a sampler (one for all runs) that every ~20 ms reads the Lease (as a watch recorded
// it) and then the live processes carrying the run's holder in their environment: a process alive after the lease
// was seen held by someone else is a violation. Read in that order, a sample can miss a violation
// shorter than the watch's delay but never reports one that did not happen; the contender's grant
// compared with the last time a descendant was seen alive closes that gap. Samples begin once the
// watch has delivered the run's own grant.
import type { V1Lease } from '@kubernetes/client-node';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshNamespace } from '../integration/helpers.js';
import { countByHolder, processesOf } from '../support/processes.js';
import { cleanup, figures, fmtMs, History, koncli, linesOf, Report, sleep, startKoncli, until, workDir, type Proc } from './support.js';

const report = new Report('descendants');
let ns: string;
let dir: string;
let worker: string;
const ROUNDS = 3;

beforeAll(async () => {
  ns = await freshNamespace('rel-descendants');
  dir = workDir('descendants');
  worker = join(dir, 'worker.sh');
  writeFileSync(
    worker,
    `#!/bin/sh
name=$1 log=$2 grace=\${3:-0.5}
trap "echo \\"$name got TERM\\" >> $log; sleep $grace; exit 0" TERM
echo "$name ready" >> "$log"
while :; do sleep 0.05; done
`,
  );
  chmodSync(worker, 0o755);
});
afterAll(() => {
  cleanup();
  report.save();
});

interface Kind {
  name: string;
  /** The command (sh -c) and koncli flags; W and L are the worker and the log. */
  script: string;
  flags?: string[];
  /** How the run ends once its workers are ready. */
  end: 'SIGTERM' | 'exits' | 'lost';
  exitCode: number;
}

const KINDS: Kind[] = [
  { name: 'same-group', script: `"$W" a "$L" & "$W" b "$L" & wait`, end: 'SIGTERM', exitCode: 143 },
  { name: 'setsid', script: `setsid "$W" a "$L" & wait`, end: 'SIGTERM', exitCode: 143 },
  { name: 'double-fork', script: `sh -c '"$W" a "$L" &'; while :; do sleep 0.05; done`, end: 'SIGTERM', exitCode: 143 },
  // Double fork and exec at once, the command gone before any scan: found by the environment marker
  // (read while the process is mid-execve, /proc shows an empty environment: asked again next scan).
  // Its 3 s grace after SIGTERM lets the sampler see it alive: with 1 s, one pass over /proc on a
  // loaded machine (load 49) outlasted its whole life once.
  { name: 'fast-daemon', script: `(sh -c 'exec "$W" a "$L" 3' &); until grep -q ready "$L"; do sleep 0.02; done`, end: 'exits', exitCode: 0 },
  { name: 'nohup-left', script: `nohup "$W" a "$L" >/dev/null 2>&1 & until grep -q ready "$L"; do sleep 0.02; done`, end: 'exits', exitCode: 0 },
  { name: 'nohup-waited', script: `nohup sh -c 'echo a ready >> "$L"; sleep 1.5' >/dev/null 2>&1 &`, flags: ['--orphans', 'wait'], end: 'exits', exitCode: 0 },
  { name: 'lost', script: `sh -c 'setsid "$W" a "$L" &'; while :; do sleep 0.05; done`, flags: ['--kill-after', '1s'], end: 'lost', exitCode: 4 },
];

interface Outcome {
  kind: Kind;
  code: number | null;
  stderr: string;
  leftAfterExit: number;
  samplesAlive: number;
  /** Samples with a descendant alive taken before the watch had delivered the run's grant. */
  unjudged: number;
  /** Samples with a descendant alive while the Lease was seen held by another (or free), with the states seen. */
  violations: string[];
  /** ms from the last sample with a descendant alive to the contender's grant as the watch saw it (not for `lost`). */
  gapMs?: number;
  /** ms from launching `lease release --force` to the last descendant seen alive (`lost` only). */
  lossToGoneMs?: number;
}

/**
 * One sampler for all concurrent runs (one pass over /proc per tick, not one per run): every ~20 ms
 * it reads each run's Lease state (as its watch last showed it), *then* counts each run's live
 * processes, and hands each run both.
 */
interface Watcher {
  leaseHolder: () => string | undefined;
  onSample: (alive: number, leaseHolder: string | undefined) => void;
}
const watchers = new Map<string, Watcher>();
let samplerRunning: Promise<void> | undefined;
function sample(holder: string, watcher: Watcher): () => void {
  watchers.set(holder, watcher);
  samplerRunning ??= (async () => {
    while (watchers.size > 0) {
      const leases = new Map([...watchers].map(([h, w]) => [h, w.leaseHolder()]));
      const counts = countByHolder([...leases.keys()]);
      for (const [h, leaseHolder] of leases) watchers.get(h)?.onSample(counts.get(h) ?? 0, leaseHolder);
      await sleep(20);
    }
    samplerRunning = undefined;
  })();
  return () => watchers.delete(holder);
}

async function runOnce(kind: Kind, round: number): Promise<Outcome> {
  const lease = `${kind.name}-${round}`;
  const holder = `h-${lease}-${ns}`;
  const log = join(dir, `${lease}.log`);
  const history = await History.start<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, lease);
  const run: Proc = startKoncli(ns, ['lease', 'run', lease, '--holder', holder, '--ttl', '10s', ...(kind.flags ?? []), '--', 'sh', '-c', kind.script], {
    W: worker,
    L: log,
  });
  // The Lease's holder as the watch last showed it, once it has shown this run's grant (the command
  // starts only after that grant; a sample taken before the watch delivered it judges nothing).
  const holderNow = () => {
    const states = history.objects().map((o) => o.spec?.holderIdentity ?? '');
    return states.includes(holder) ? states.at(-1)! : undefined;
  };
  let samplesAlive = 0;
  let unjudged = 0;
  const violations: string[] = [];
  let lastAliveAt = 0;
  const stopSampling = sample(holder, {
    leaseHolder: holderNow,
    onSample: (alive, leaseHolder) => {
      if (alive === 0) return;
      lastAliveAt = Date.now();
      if (leaseHolder === undefined) unjudged++;
      else {
        samplesAlive++;
        if (leaseHolder !== holder && kind.end !== 'lost')
          violations.push(
            `${Date.now()}: held by ${JSON.stringify(leaseHolder)}; versions ${JSON.stringify(history.objects().map((o) => o.spec?.holderIdentity))}`,
          );
      }
    },
  });
  await until(`${lease}: workers ready`, () => linesOf(log).some((l) => l.endsWith('ready')), 30_000);
  const contender =
    kind.end === 'lost' ? undefined : startKoncli(ns, ['lease', 'acquire', lease, '--holder', 'contender', '--wait', '--timeout', '60s', '--ttl', '1s']);
  await sleep(300);
  let lostAt = 0;
  if (kind.end === 'SIGTERM') run.child.kill('SIGTERM');
  if (kind.end === 'lost') {
    lostAt = Date.now();
    expect((await koncli(ns, 'lease', 'release', lease, '--holder', 'operator', '--force')).code).toBe(0);
  }
  const result = await run.done;
  const leftAfterExit = processesOf(holder).length;
  stopSampling();
  let gapMs: number | undefined;
  if (contender) {
    expect((await contender.done).code).toBe(0);
    const granted = history.versions.find((v) => v.object.spec?.holderIdentity === 'contender');
    gapMs = granted ? granted.at - lastAliveAt : undefined;
  }
  history.stop();
  return {
    kind,
    code: result.code,
    stderr: result.stderr,
    leftAfterExit,
    samplesAlive,
    unjudged,
    violations,
    gapMs,
    lossToGoneMs: lostAt ? lastAliveAt - lostAt : undefined,
  };
}

test(`${KINDS.length} kinds of descendant × ${ROUNDS} rounds: none left after koncli exits, the lease never held by another while one runs`, async () => {
  const outcomes: Outcome[] = [];
  for (let round = 0; round < ROUNDS; round++) outcomes.push(...(await Promise.all(KINDS.map((k) => runOnce(k, round)))));

  const lines = KINDS.map((kind) => {
    const mine = outcomes.filter((o) => o.kind === kind);
    const codes = [...new Set(mine.map((o) => o.code))].join(', ');
    const extra =
      kind.end === 'lost'
        ? `; "lease release --force" launched → last descendant seen alive: ${fmtMs(figures(mine.map((o) => o.lossToGoneMs!)))}`
        : `; last descendant seen alive → contender's grant seen: ${fmtMs(figures(mine.map((o) => o.gapMs!)))}`;
    return `${kind.name} (${kind.end === 'SIGTERM' ? 'SIGTERM to koncli' : kind.end === 'lost' ? 'lease force-released' : 'command exits'}${kind.flags ? `, ${kind.flags.join(' ')}` : ''}): exit ${codes}; processes left after koncli exited: ${mine.reduce((s, o) => s + o.leftAfterExit, 0)}; samples with a descendant alive: ${mine.reduce((s, o) => s + o.samplesAlive, 0)}, of them with the lease held by another or free: ${mine.reduce((s, o) => s + o.violations.length, 0)}${extra}`;
  });
  const contended = outcomes.filter((o) => o.gapMs !== undefined);
  lines.push(
    `runs: ${outcomes.length}; processes left after koncli exited: ${outcomes.reduce((s, o) => s + o.leftAfterExit, 0)}; lease held by another while a descendant ran: ${outcomes.reduce((s, o) => s + o.violations.length, 0)} samples (${outcomes.reduce((s, o) => s + o.unjudged, 0)} more taken before the watch delivered the grant, not judged), ${contended.filter((o) => o.gapMs! < 0).length} contender grants before the last descendant died (of ${contended.length})`,
  );
  report.add(`lease run: ${KINDS.length} kinds of descendant × ${ROUNDS} rounds, each with a contender waiting`, lines);

  for (const o of outcomes) {
    const seen = { kind: o.kind.name, code: o.code, left: o.leftAfterExit, violations: o.violations, seenAlive: o.samplesAlive + o.unjudged > 0 };
    const wanted = { kind: o.kind.name, code: o.kind.exitCode, left: 0, violations: [], seenAlive: true };
    expect(o.code === o.kind.exitCode ? seen : { ...seen, stderr: o.stderr }).toEqual(wanted);
    if (o.gapMs !== undefined) expect(o.gapMs).toBeGreaterThanOrEqual(0);
  }
  expect(contended).toHaveLength(outcomes.length - ROUNDS);
}, 170_000);
