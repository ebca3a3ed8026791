// Interoperation with klock (github.com/berquerant/k8s-lease; the binary named by KONCLI_KLOCK or on PATH): klock
// and `koncli lease run` take turns on one Lease. Checked from a shared section log (no overlap,
// each section once) and from an independent watch of the Lease (holders only change through
// "free"; while klock holds, koncli writes nothing but its waiter queue annotation; klock's labels
// and the Lease itself survive).
import type { V1Lease } from '@kubernetes/client-node';
import { join } from 'node:path';
import { adminKubeconfigPath, freshNamespace } from '../integration/helpers.js';
// @ts-expect-error plain ESM module without types
import { findKlock } from '../support/klock.mjs';
import {
  cleanup,
  checkExclusion,
  figures,
  fmtMs,
  History,
  json,
  koncli,
  Report,
  sectionScript,
  sectionStarted,
  startGroup,
  startKoncli,
  until,
  workDir,
} from './support.js';

const KLOCK_LABEL = { 'app.kubernetes.io/managed-by': 'k8s-lease-klock' };
const WAITERS_ANNOTATION = 'koncli.dev/waiters';

const report = new Report('klock');
let ns: string;
let dir: string;
let script: string;

// The project does not build klock (test/support/klock.mjs): without a binary these tests are skipped, loudly.
const found: { path?: string; note?: string } = findKlock();
const klockBin = found.path;
if (!klockBin) {
  process.stderr.write(`[klock] SKIPPING the klock interoperation tests: ${found.note}\n`);
  report.add('klock interoperation: SKIPPED', [found.note!]);
}

beforeAll(async () => {
  ns = await freshNamespace('rel-klock');
  dir = workDir('klock');
  script = sectionScript(dir);
});
afterAll(() => {
  cleanup();
  report.save();
});

/** klock running one critical section as `id` (klock's default timings: 15 s / 10 s / 2 s). */
const klock = (lease: string, id: string, log: string, hold: string, extra: string[] = []) =>
  startGroup(klockBin!, ['--kubeconfig', adminKubeconfigPath(), '-n', ns, '-l', lease, '-i', id, ...extra, '--', script, log, id, hold]);

const leaseRun = (lease: string, id: string, log: string, hold: string) =>
  startKoncli(ns, ['lease', 'run', lease, '--holder', id, '--wait', '--timeout', '300s', '--', script, log, id, hold]);

const sameMap = (a: Record<string, string> = {}, b: Record<string, string> = {}) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
const withoutQueue = (a: Record<string, string> = {}) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== WAITERS_ANNOTATION));

/** Every write made while klock held the Lease, judged: klock's own renew/release, or koncli's queue bookkeeping only. */
function foreignWritesDuringKlockHolds(states: V1Lease[]): string[] {
  const bad: string[] = [];
  for (let i = 1; i < states.length; i++) {
    const [before, after] = [states[i - 1], states[i]];
    const holder = before.spec?.holderIdentity ?? '';
    if (!holder.startsWith('klock-')) continue;
    const rv = after.metadata?.resourceVersion;
    if (!sameMap(before.metadata?.labels, after.metadata?.labels)) bad.push(`${rv}: labels changed while ${holder} held`);
    if (JSON.stringify(before.spec) !== JSON.stringify(after.spec)) {
      const next = after.spec?.holderIdentity ?? '';
      if (next !== holder && next !== '') bad.push(`${rv}: ${holder} displaced by ${next}`);
    } else if (!sameMap(withoutQueue(before.metadata?.annotations), withoutQueue(after.metadata?.annotations))) {
      bad.push(`${rv}: annotations other than ${WAITERS_ANNOTATION} changed while ${holder} held`);
    }
  }
  return bad;
}

(klockBin ? describe : describe.skip)('klock and koncli on one Lease', () => {
  test('each sees the other as holder: koncli status names klock; klock waits (and times out) while koncli holds', async () => {
    const log = join(dir, 'visibility.log');
    const lease = 'visible';
    // klock holds: koncli's status shows its identity; a koncli run waits for klock's release.
    const k = klock(lease, 'klock-visible', log, '4');
    await until('klock to start its section', () => sectionStarted(log, 'klock-visible'), 60_000);
    const status = json(await koncli(ns, 'lease', 'status', lease, '--json'));
    expect(status).toMatchObject({ holder: 'klock-visible', phase: 'Held', ttlSeconds: 15, labels: KLOCK_LABEL });
    const waiter = leaseRun(lease, 'koncli-after-klock', log, '0.1');
    expect((await k.done).code).toBe(0);
    expect((await waiter.done).code).toBe(0);

    // koncli holds: klock with -w 3s gives up with its conflict code and never runs the command.
    const holder = leaseRun(lease, 'koncli-visible', log, '8');
    await until('koncli to start its section', () => sectionStarted(log, 'koncli-visible'), 60_000);
    const gaveUp = await klock(lease, 'klock-gives-up', log, '0.1', ['-w', '3s', '-E', '42']).done;
    expect(gaveUp.code).toBe(42);
    // ... and a patient klock runs as soon as it sees koncli's release.
    const patient = klock(lease, 'klock-after-koncli', log, '0.1');
    expect((await holder.done).code).toBe(0);
    expect((await patient.done).code).toBe(0);

    const check = checkExclusion(log);
    expect(check.overlaps).toEqual([]);
    expect(check.malformed).toEqual([]);
    expect(check.sections.map((s) => s.id)).toEqual(['klock-visible', 'koncli-after-klock', 'koncli-visible', 'klock-after-koncli']);
    const [kv, ka, kn, kk] = check.sections;
    report.add('handoffs between the tools (one each)', [
      `klock release → koncli (watching) section start: ${ka.start - kv.end} ms`,
      `koncli release → klock (polling every 2 s) section start: ${kk.start - kn.end} ms`,
      `klock -w 3s while koncli held: exit ${gaveUp.code} (its -E code) after ${gaveUp.ms} ms, command not run`,
    ]);
  }, 180_000);

  test('klock and koncli processes contend for one Lease: no overlap, each section once, the Lease and its labels intact', async () => {
    const lease = 'shared';
    const log = join(dir, 'mixed.log');
    // klock creates the Lease, so it carries klock's label from the start.
    expect((await klock(lease, 'klock-first', log, '0.05').done).code).toBe(0);
    const history = await History.start<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, lease);
    const started = Date.now();
    const WORKERS = 4;
    const RUNS = 3;
    const results: { id: string; code: number | null }[] = [];
    await Promise.all([
      ...Array.from({ length: WORKERS }, async (_, w) => {
        for (let r = 0; r < RUNS; r++) {
          const id = `klock-${w}-${r}`;
          results.push({ id, code: (await klock(lease, id, log, '0.2').done).code });
        }
      }),
      ...Array.from({ length: WORKERS }, async (_, w) => {
        for (let r = 0; r < RUNS; r++) {
          const id = `koncli-${w}-${r}`;
          results.push({ id, code: (await leaseRun(lease, id, log, '0.2').done).code });
        }
      }),
    ]);
    const wallMs = Date.now() - started;
    expect(results.filter((r) => r.code !== 0)).toEqual([]);

    const check = checkExclusion(log);
    expect(check.overlaps).toEqual([]);
    expect(check.malformed).toEqual([]);
    expect(check.duplicates).toEqual([]);
    expect(check.tokenRegressions).toEqual([]);
    expect(check.sections).toHaveLength(1 + 2 * WORKERS * RUNS);

    await until(
      'the last release to be recorded',
      () => (history.objects().at(-1)?.spec?.holderIdentity ?? 'x') === '' && Date.now() - history.versions.at(-1)!.at > 500,
    );
    history.stop();
    const states = history.objects();
    expect(history.versions.filter((v) => v.type === 'DELETED')).toEqual([]);
    expect(states.every((s) => s.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'k8s-lease-klock')).toBe(true);
    const direct = states.slice(1).filter((s, i) => {
      const [a, b] = [states[i].spec?.holderIdentity ?? '', s.spec?.holderIdentity ?? ''];
      return a !== '' && b !== '' && a !== b;
    });
    expect(direct.map((s) => s.metadata?.resourceVersion)).toEqual([]);
    expect(foreignWritesDuringKlockHolds(states)).toEqual([]);

    const sections = check.sections;
    const gaps = (from: string, to: string) =>
      sections.slice(1).flatMap((s, i) => (sections[i].id.startsWith(from) && s.id.startsWith(to) ? [s.start - sections[i].end] : []));
    const queueWrites = states.slice(1).filter((s, i) => JSON.stringify(s.spec) === JSON.stringify(states[i].spec)).length;
    report.add(`${WORKERS} klock + ${WORKERS} koncli workers × ${RUNS} sections on one Lease`, [
      `sections run: ${sections.length} (${sections.filter((s) => s.id.startsWith('klock')).length} klock, ${sections.filter((s) => s.id.startsWith('koncli')).length} koncli), each once; overlaps: ${check.overlaps.length}`,
      `Lease versions recorded: ${states.length}, of which koncli queue-only writes: ${queueWrites}; deletions: 0; holder changes that skipped "free": ${direct.length}`,
      `writes while klock held that were neither klock's own nor koncli's queue annotation: ${foreignWritesDuringKlockHolds(states).length}`,
      `klock → koncli handoff: ${fmtMs(figures(gaps('klock', 'koncli')))}`,
      `koncli → klock handoff: ${fmtMs(figures(gaps('koncli', 'klock')))}`,
      `wall time: ${(wallMs / 1000).toFixed(1)} s`,
    ]);
  }, 300_000);
});
