// Contention at scale: 50 `koncli lease run` processes, each running 4 critical sections in a row,
// all on one Lease. The sections log to one shared file; an independent watch records every
// version of the Lease. (lease-run.test.ts proves the same for 10 runs of one section each.)
import type { V1Lease } from '@kubernetes/client-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshNamespace } from '../integration/helpers.js';
import { cleanup, checkExclusion, figures, fmtMs, History, ms, Report, sectionScript, startKoncli, until, workDir } from './support.js';

const PROCESSES = 50;
const RUNS_EACH = 4;
const HOLD_SECONDS = '0.02';

const report = new Report('contention');
let ns: string;
let dir: string;

beforeAll(async () => {
  ns = await freshNamespace('rel-contention');
  dir = workDir('contention');
});
afterAll(() => {
  cleanup();
  report.save();
});

/** Proportional set size (kB: private memory plus a share of what is shared) of a process, or 0 once it is gone. */
const pssKb = (pid: number | undefined) => {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

test(`${PROCESSES} concurrent lease run processes × ${RUNS_EACH} sections on one Lease: no overlap, each once, fencing tokens increase`, async () => {
  const script = sectionScript(dir);
  const log = join(dir, 'sections.log');
  const history = await History.start<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, 'crowd');
  const live = new Set<number>();
  let peakKb = 0;
  let peakProcesses = 0;
  const sampler = setInterval(() => {
    const kb = [...live].reduce((sum, pid) => sum + pssKb(pid), 0);
    peakKb = Math.max(peakKb, kb);
    peakProcesses = Math.max(peakProcesses, live.size);
  }, 500);
  const started = Date.now();
  const failures: string[] = [];
  const warnings: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: PROCESSES }, async (_, p) => {
        for (let r = 0; r < RUNS_EACH; r++) {
          const proc = startKoncli(ns, ['lease', 'run', 'crowd', '--wait', '--timeout', '550s', '--', script, log, `p${p}-r${r}`, HOLD_SECONDS]);
          live.add(proc.child.pid!);
          const result = await proc.done;
          live.delete(proc.child.pid!);
          if (result.code !== 0) failures.push(`p${p}-r${r}: exit ${result.code} ${result.signal ?? ''} ${result.stderr.trim().split('\n').at(-1)}`);
          warnings.push(
            ...result.stderr
              .split('\n')
              .filter((l) => /warn|error/i.test(l))
              .map((l) => `p${p}-r${r}: ${l}`),
          );
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Date.now() - started;
  writeFileSync(join(dir, 'warnings.txt'), warnings.join('\n'));
  expect(failures).toEqual([]);

  const check = checkExclusion(log);
  expect(check.overlaps).toEqual([]);
  expect(check.malformed).toEqual([]);
  expect(check.duplicates).toEqual([]);
  expect(check.tokenRegressions).toEqual([]);
  expect(check.sections).toHaveLength(PROCESSES * RUNS_EACH);
  const expected = Array.from({ length: PROCESSES }, (_, p) => Array.from({ length: RUNS_EACH }, (_, r) => `p${p}-r${r}`)).flat();
  expect(check.sections.map((s) => s.id).sort()).toEqual(expected.sort());

  // The independent record: a holder change that does not pass through "free" is a takeover,
  // legitimate only once the previous holder's claim had run out (its last renewTime + TTL, both
  // stamped on this machine's clock, before the new holder's acquireTime). Each section's fencing
  // token is the resourceVersion of the write that handed it the lease.
  const last = check.sections.at(-1)!;
  await history.caughtUp(String(last.token!));
  await until('the final release to be recorded', () => (history.objects().at(-1)?.spec?.holderIdentity ?? '') === '');
  history.stop();
  history.dump(join(dir, 'history.jsonl'));
  const states = history.objects();
  const early: string[] = [];
  const expired: string[] = [];
  const grants = new Set<string>();
  for (let i = 1; i < states.length; i++) {
    const [before, after] = [states[i - 1].spec ?? {}, states[i].spec ?? {}];
    if (before.holderIdentity === after.holderIdentity || !after.holderIdentity) continue;
    const rv = states[i].metadata!.resourceVersion!;
    grants.add(rv);
    if (!before.holderIdentity) continue;
    const deadline = ms(before.renewTime!) + before.leaseDurationSeconds! * 1000;
    const granted = ms(after.acquireTime!);
    (granted >= deadline ? expired : early).push(
      `${before.holderIdentity} -> ${after.holderIdentity} at ${rv}, ${granted - deadline} ms after the claim ran out`,
    );
  }
  if (states[0]?.spec?.holderIdentity) grants.add(states[0].metadata!.resourceVersion!);
  expect(early).toEqual([]);
  const tokens = check.sections.map((s) => String(s.token));
  expect(tokens.filter((t) => !grants.has(t))).toEqual([]);
  expect(grants.size).toBe(PROCESSES * RUNS_EACH);
  expect(states.at(-1)?.spec?.holderIdentity ?? '').toBe('');

  const handoffs = check.sections.slice(1).map((s, i) => s.start - check.sections[i].end);
  report.add(`${PROCESSES} processes × ${RUNS_EACH} \`lease run\` on one Lease (hold ${HOLD_SECONDS}s)`, [
    `sections run: ${check.sections.length} (expected ${PROCESSES * RUNS_EACH}), each exactly once; overlaps: ${check.overlaps.length}`,
    `fencing tokens strictly increasing: ${check.tokenRegressions.length === 0} (${check.sections[0].token} … ${last.token}); every token is the resourceVersion of a grant in the watched history`,
    `takeovers before the previous holder's claim ran out: ${early.length}; takeovers of a claim that had run out (a starved holder that released late): ${expired.length}${expired.length ? ` (${expired.join('; ')})` : ''}; Lease versions recorded: ${states.length}`,
    `wall time: ${(wallMs / 1000).toFixed(1)} s (${((check.sections.length * 1000) / wallMs).toFixed(2)} sections/s)`,
    `handoff (end of one section to start of the next): ${fmtMs(figures(handoffs))}`,
    `warnings printed by the runs: ${warnings.length}${warnings.length ? ` (first: ${warnings[0]})` : ''}`,
    `peak koncli processes alive: ${peakProcesses}; their peak total PSS: ${(peakKb / 1024).toFixed(0)} MiB (${peakProcesses ? (peakKb / 1024 / peakProcesses).toFixed(0) : '-'} MiB each)`,
  ]);
}, 600_000);
