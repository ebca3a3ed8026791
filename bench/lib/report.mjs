// bench/results/latest.json (everything measured) and latest.md (the tables people read).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STEPS } from '../suites/startup-steps.mjs';
import { judge, verbs } from './targets.mjs';

const table = (headers, rows) =>
  [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const ms = (s) => (s ? `${s.median} / ${s.p99}` : '–');
const mark = (met) => (met === null ? 'n/a' : met ? 'met' : '**not met**');

function markdown(report) {
  const out = [`# koncli benchmark (${report.date})`, ''];
  // Suites that failed show only in the targets table (with their error).
  const r = { ...report, results: Object.fromEntries(Object.entries(report.results).filter(([, v]) => !v?.error)) };
  const m = r.machine;
  out.push(
    `Machine: ${m.cores} cores (${m.cpu}), Node ${m.node}, kube-apiserver ${m.kubernetes}; load average ${m.loadBefore.map((x) => x.toFixed(1)).join(' ')} at the start, ${m.loadAfter.map((x) => x.toFixed(1)).join(' ')} at the end. ${r.quick ? '**Quick run (few repetitions).** ' : ''}Bench time ${r.seconds} s. klock: ${r.klock}.`,
    '',
  );
  out.push(
    '## Targets',
    '',
    table(
      ['goal', 'measured', ''],
      judge(report.results).map((t) => [t.goal, t.measured, mark(t.met)]),
    ),
    '',
  );
  const s = r.results.startup;
  if (s) {
    out.push('## Start-up (wall ms median / p99; CPU ms median)', '');
    out.push(
      table(
        ['command', 'wall', 'CPU', 'n'],
        s.rows.map((x) =>
          x.skipped ? [x.label, `skipped: ${x.skipped}`, '', ''] : [x.label, ms(x.wallMs), String(x.cpuMs.median ?? '–'), String(x.wallMs.n)],
        ),
      ),
    );
    out.push(
      '',
      `Paired ratios to \`kubectl get\` (median of per-round ratios): dist/bin/koncli status ${s.statusVsKubectl?.toFixed(2)}, acquire ${s.acquireVsKubectl?.toFixed(2)}; npm build status ${s.npmStatusVsKubectl?.toFixed(2)}; bare Node GET ${s.floorVsKubectl?.toFixed(2)}.`,
      '',
    );
  }
  if (r.results.steps) {
    out.push('## Start-up work, step by step (ms, median of each step; KONCLI_STARTUP_TIMING=1)', '');
    const cells = r.results.steps;
    const head = cells.map((c) => `${c.build} \`${c.command}\``);
    const rows = STEPS.map(([mark, label], j) => [label, ...cells.map((c) => String(c.steps[j]?.ms ?? '–'))]);
    rows.push(['**sum of the steps** (process start to exit, as the process saw it)', ...cells.map((c) => String(c.exitMark))]);
    rows.push(['wall time measured from outside (fork to exit) / CPU', ...cells.map((c) => `${c.wallMs} / ${c.cpuMs}`)]);
    out.push(table(['step', ...head], rows), '');
  }
  if (r.results.handover) {
    out.push("## Handover latency (release event → next holder event, ms, at the bench's watch)", '');
    out.push(
      table(
        ['tool', 'waiters', 'p50', 'p99', 'max', 'n'],
        r.results.handover.map((h) =>
          h.skipped
            ? [h.variant, String(h.waiters), `skipped: ${h.skipped}`, '', '', '']
            : [h.variant, String(h.waiters), String(h.ms.median), String(h.ms.p99), String(h.ms.max), String(h.ms.n)],
        ),
      ),
      '',
    );
  }
  if (r.results.throughput) {
    out.push('## Throughput (20 contenders × 5 critical sections `-- true`)', '');
    out.push(
      table(
        ['tool', 'total s (median)', 'each run s', 'sections/s', 'lease requests (median run)', 'failed'],
        r.results.throughput.map((t) =>
          t.skipped
            ? [t.tool, `skipped: ${t.skipped}`, '', '', '', '']
            : [t.tool, String(t.seconds), (t.runSeconds ?? [t.seconds]).join(', '), String(t.sectionsPerSecond), verbs(t.requests), String(t.failures.length)],
        ),
      ),
      '',
    );
  }
  const a = r.results.api;
  if (a) {
    out.push('## API cost (apiserver_request_total deltas)', '');
    out.push(
      table(
        ['operation', 'requests', 'by verb'],
        [
          ['uncontended acquire (free lease)', String(a.acquireFree.requests), verbs(a.acquireFree.byVerb)],
          ['acquire creating the lease', String(a.acquireNew.requests), verbs(a.acquireNew.byVerb)],
          ['acquire extending own lease', String(a.extendHeld.requests), verbs(a.extendHeld.byVerb)],
          ['release', String(a.release.requests), verbs(a.release.byVerb)],
          ['release of a free lease', String(a.releaseFree.requests), verbs(a.releaseFree.byVerb)],
          ['renewal inside `lease run`', `${a.renew.perRenewal} per renewal`, `${verbs(a.renew.byVerb)} for ${a.renew.renewals} renewals`],
          [
            `${a.idle.waiters} idle \`acquire --wait\` waiters (${a.idle.queuedBefore}→${a.idle.queuedAfter} queued)`,
            `${a.idle.perSecond}/s`,
            `${verbs(a.idle.byVerb)} in ${a.idle.windowSeconds} s`,
          ],
        ],
      ),
      '',
    );
  }
  if (Array.isArray(r.results.waiters)) {
    out.push('## Waiting in O(N) (npm builds; baseline from KONCLI_BENCH_BASELINE)', '');
    out.push(
      table(
        [
          'build',
          'idle waiters',
          'CPU-s/min in all',
          'lease requests/s',
          'wake-ups/waiter/min',
          'lease changes/min',
          'acquire --wait p50/p99',
          'lease run --wait p50/p99',
        ],
        r.results.waiters.map((w) => {
          const h = (v) => w.handover.find((x) => x.variant === v)?.ms;
          const ms = (x) => (x ? `${x.median} / ${x.p99} ms (n=${x.n})` : 'n/a');
          const i = w.idle;
          return [
            w.build,
            String(i.waiters),
            String(i.cpuSecondsPerMinute),
            String(i.requestsPerSecond),
            String(i.wakeUpsPerWaiterPerMinute),
            String(i.leaseChangesPerMinute),
            ms(h('koncli acquire --wait')),
            ms(h('koncli lease run --wait')),
          ];
        }),
      ),
      '',
    );
  }
  for (const w of Array.isArray(r.results.waiters) ? r.results.waiters : []) {
    for (const f of w.failures ?? []) out.push(`- ${w.build} failed a handover round: ${f}`);
  }
  if (r.results.memory)
    out.push(
      '## Memory',
      '',
      `Peak RSS (VmHWM) of \`${r.results.memory.command}\`: median ${r.results.memory.peakRssMb.median} MB, max ${r.results.memory.peakRssMb.max} MB (n=${r.results.memory.peakRssMb.n}).`,
      ...(r.results.memory.watchdogPeakRssMb
        ? [
            '',
            `Its watchdog (a process of its own): peak RSS median ${r.results.memory.watchdogPeakRssMb.median} MB, max ${r.results.memory.watchdogPeakRssMb.max} MB; koncli and watchdog together median ${r.results.memory.togetherPeakRssMb.median} MB, max ${r.results.memory.togetherPeakRssMb.max} MB; the watchdog's CPU over the run median ${r.results.memory.watchdogCpuMs.median} ms, max ${r.results.memory.watchdogCpuMs.max} ms.`,
          ]
        : []),
      ...(r.results.memory.waiterPeakRssMb
        ? [
            '',
            `A waiter, \`lease acquire NAME --timeout 8s\` on a held lease: median ${r.results.memory.waiterPeakRssMb.median} MB, max ${r.results.memory.waiterPeakRssMb.max} MB.`,
          ]
        : []),
      '',
    );
  return out.join('\n');
}

export function writeReport(report, dir) {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  writeFileSync(json, `${JSON.stringify({ ...report, targets: judge(report.results) }, null, 2)}\n`);
  writeFileSync(md, `${markdown(report)}\n`);
  return [md, json];
}
