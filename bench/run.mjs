#!/usr/bin/env node
// koncli's performance benchmark against its peers (kubectl, klock) on the local control plane.
// See docs/performance.md. Usage (after `npm run build`):
//   node bench/run.mjs [--quick] [--only startup,handover,throughput,api,memory,steps,waiters] [--out DIR]
// (waiters compares with the build in KONCLI_BENCH_BASELINE when set: suites/waiters.mjs)
// Starts or reuses the plane as the tests do (test/cluster/plane.mjs; KONCLI_CLUSTER_DIR picks
// which), works in a fresh namespace, and writes bench/results/latest.{md,json}.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { up } from '../test/cluster/plane.mjs';
import { Kube } from './lib/kube.mjs';
import { writeReport } from './lib/report.mjs';
import { REPO, toolsFor } from './lib/tools.mjs';
import { apiCost } from './suites/api-cost.mjs';
import { handover } from './suites/handover.mjs';
import { memory } from './suites/memory.mjs';
import { startup } from './suites/startup.mjs';
import { startupSteps } from './suites/startup-steps.mjs';
import { throughput } from './suites/throughput.mjs';
import { waiters } from './suites/waiters.mjs';

const SUITES = ['startup', 'steps', 'handover', 'throughput', 'api', 'memory', 'waiters'];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: `${REPO}bench/results` },
  },
});
const only = args.only ? args.only.split(',') : SUITES;
for (const s of only) if (!SUITES.includes(s)) throw new Error(`unknown suite ${s} (one of ${SUITES.join(', ')})`);
const q = args.quick;
const log = (m) => process.stderr.write(`bench: ${m}\n`);

const started = Date.now();
const { state } = await up({ log });
const kube = new Kube(state);
const namespace = `koncli-bench-${Date.now().toString(36)}`;
await kube.createNamespace(namespace);
// The waiters suite compares npm builds: it alone needs no single executable.
const tools = await toolsFor({ state, namespace, log, requireExecutable: only.some((s) => s !== 'waiters') });
log(`plane ${state.server} (${state.version}), namespace ${namespace}${tools.klock ? '' : `; ${tools.klockNote}`}`);

const results = {};
const loadBefore = loadavg();
/** Runs one suite; a failure is recorded in the results (and the other suites still run). */
async function suite(name, fn) {
  if (!only.includes(name)) return;
  try {
    results[name] = await fn();
  } catch (err) {
    log(`${name} failed: ${err.stack ?? err}`);
    results[name] = { error: String(err.message ?? err) };
  }
}
await suite('startup', () => startup({ tools, state, rounds: q ? 5 : 20, log }));
await suite('steps', () => startupSteps({ tools, rounds: q ? 3 : 10, log }));
await suite('handover', () => handover({ kube, tools, samplesFor: (w) => (q ? 5 : w === 1 ? 20 : 40), log }));
await suite('throughput', () => throughput({ kube, tools, contenders: 20, sections: 5, repeats: q ? 1 : 3, log }));
await suite('api', () => apiCost({ kube, tools, repeats: q ? 3 : 5, idleWaiters: q ? 20 : 100, windowMs: q ? 16_000 : 32_000, log }));
await suite('memory', () => memory({ tools, repeats: q ? 1 : 3, log }));
await suite('waiters', () =>
  waiters({
    kube,
    tools,
    n: q ? 20 : 60,
    windowMs: q ? 20_000 : 60_000,
    repeats: Number(process.env.KONCLI_BENCH_WAITERS_ROUNDS ?? (q ? 1 : 2)),
    samples: q ? 5 : 20,
    log,
  }),
);

const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, kubernetes: state.version, loadBefore, loadAfter: loadavg() };
const report = {
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  quick: q,
  machine,
  namespace,
  klock: tools.klock ? tools.klockBin : tools.klockNote,
  results,
};
const files = writeReport(report, args.out);
log(`done in ${report.seconds} s: ${files.join(', ')}`);
process.exit(0);
