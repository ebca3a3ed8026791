// The performance goals (docs/performance.md), judged against one run's results. They live here,
// in the benchmark, never in timed tests.
const fmt = (v, unit = '') => (v === null || v === undefined ? 'n/a' : `${v}${unit}`);

export function judge(results) {
  const t = [];
  const add = (goal, measured, met) => t.push({ goal, measured, met });
  const ok = (x) => (x && !x.error ? x : undefined);
  for (const [name, r] of Object.entries(results)) if (r?.error) add(`suite ${name}`, `failed: ${r.error}`, null);
  const s = ok(results.startup);
  if (s) {
    const row = (id) => s.rows.find((r) => r.id === id);
    add(
      '`dist/bin/koncli lease status NAME --json` ≤ 1.2 × `kubectl get lease NAME -o json` (median ratio)',
      `ratio ${fmt(s.statusVsKubectl?.toFixed(2))} (${fmt(row('status')?.wallMs?.median, ' ms')} vs ${fmt(row('kubectl')?.wallMs?.median, ' ms')}; bare-Node floor ${fmt(s.floorVsKubectl?.toFixed(2))})`,
      s.statusVsKubectl === null ? null : s.statusVsKubectl <= 1.2,
    );
    add(
      '`dist/bin/koncli lease acquire NAME --timeout 0` ≤ 1.3 × `kubectl get lease NAME -o json` (median ratio)',
      `ratio ${fmt(s.acquireVsKubectl?.toFixed(2))} (${fmt(row('acquire')?.wallMs?.median, ' ms')} vs ${fmt(row('kubectl')?.wallMs?.median, ' ms')})`,
      s.acquireVsKubectl == null ? null : s.acquireVsKubectl <= 1.3,
    );
    const v = row('version')?.wallMs?.median;
    add('`dist/bin/koncli --version` ≤ 100 ms median', fmt(v, ' ms'), v === undefined ? null : v <= 100);
  }
  for (const h of ok(results.handover) ?? []) {
    if (h.waiters !== 20 || h.variant === 'klock' || h.skipped) continue;
    add(
      `handover p50 ≤ 15 ms and p99 ≤ 50 ms with 20 waiters (${h.variant})`,
      `p50 ${fmt(h.ms.median, ' ms')}, p99 ${fmt(h.ms.p99, ' ms')} (n=${h.ms.n})`,
      h.ms.median <= 15 && h.ms.p99 <= 50,
    );
  }
  const tp = ok(results.throughput);
  if (tp) {
    const k = tp.find((r) => r.tool.startsWith('koncli'));
    const kl = tp.find((r) => r.tool === 'klock');
    const ratio = k && kl && !kl.skipped ? kl.seconds / k.seconds : null;
    add(
      "throughput (20 × 5 `lease run -- true`) at least 5× klock's",
      ratio === null ? `koncli ${fmt(k?.seconds, ' s')}; klock skipped` : `${ratio.toFixed(1)}× (${k.seconds} s vs ${kl.seconds} s)`,
      ratio === null ? null : ratio >= 5,
    );
  }
  const a = ok(results.api);
  if (a) {
    add('uncontended acquire ≤ 2 requests', `${fmt(a.acquireFree.requests)} (${verbs(a.acquireFree.byVerb)})`, a.acquireFree.requests <= 2);
    add(
      'renew inside `lease run`: 1 request',
      `${fmt(a.renew.perRenewal)} per renewal (${a.renew.requests} requests / ${a.renew.renewals} renewals)`,
      a.renew.perRenewal !== null && a.renew.perRenewal <= 1,
    );
    add('release ≤ 2 requests', `${fmt(a.release.requests)} (${verbs(a.release.byVerb)})`, a.release.requests <= 2);
    const all = a.idle.queuedBefore >= a.idle.waiters;
    add(
      `${a.idle.waiters} idle waiters < 20 requests/s in total`,
      `${a.idle.perSecond}/s (${verbs(a.idle.byVerb)} in ${a.idle.windowSeconds} s; ${a.idle.queuedBefore}→${a.idle.queuedAfter} queued)`,
      all ? a.idle.perSecond < 20 : null,
    );
  }
  for (const w of ok(results.waiters) ?? []) {
    const i = w.idle;
    const at = `${i.waiters} idle waiters (registered: ${i.registered.join(', ')}), ${w.build}`;
    add(
      `${at}: ≤ 6 CPU-s per minute in all`,
      `${fmt(i.cpuSecondsPerMinute, ' CPU-s/min')} (median of ${i.runs})`,
      i.cpuSecondsPerMinute === null ? null : i.cpuSecondsPerMinute <= 6,
    );
    add(
      `${at}: ≤ 6 lease requests/s`,
      `${fmt(i.requestsPerSecond, '/s')} (${verbs(i.rows[0]?.byVerb)} in the first run)`,
      i.requestsPerSecond === null ? null : i.requestsPerSecond <= 6,
    );
    add(
      `${at}: each waiter woken only by changes of the lease (which did not change)`,
      `${fmt(i.wakeUpsPerWaiterPerMinute)} wake-ups per waiter per minute; the lease changed ${fmt(i.leaseChangesPerMinute)} times per minute`,
      i.wakeUpsPerWaiterPerMinute === null ? null : i.wakeUpsPerWaiterPerMinute <= i.leaseChangesPerMinute + 0.5,
    );
    for (const h of w.handover) {
      add(
        `handover p50 ≤ 15 ms and p99 ≤ 50 ms with 20 waiters (${h.variant}, ${w.build}, npm build)`,
        `p50 ${fmt(h.ms.median, ' ms')}, p99 ${fmt(h.ms.p99, ' ms')} (n=${h.ms.n})`,
        h.ms.median <= 15 && h.ms.p99 <= 50,
      );
    }
  }
  const m = ok(results.memory);
  if (m) {
    add(
      '`dist/bin/koncli lease run` peak RSS, koncli and its watchdog together, ≤ 60 MB',
      `${fmt(m.togetherPeakRssMb.max, ' MB')} (max of ${m.togetherPeakRssMb.n}; koncli ${fmt(m.peakRssMb.max, ' MB')}, watchdog ${fmt(m.watchdogPeakRssMb.max, ' MB')})`,
      m.togetherPeakRssMb.max <= 60,
    );
    if (m.waiterPeakRssMb) {
      add(
        'a waiter (`dist/bin/koncli lease acquire --timeout 8s`) peak RSS ≤ 50 MB',
        `${fmt(m.waiterPeakRssMb.max, ' MB')} (max of ${m.waiterPeakRssMb.n})`,
        m.waiterPeakRssMb.max <= 50,
      );
    }
  }
  return t;
}

export const verbs = (byVerb = {}) =>
  Object.entries(byVerb)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ') || 'none';
