#!/usr/bin/env node
// koncli's performance benchmark against its peers (kubectl, klock) on the local control plane.
// See docs/performance.md. Usage (after `npm run build`):
//   node bench/run.mjs [--quick] [--only startup,handover,throughput,api,memory,steps] [--out DIR]
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

const SUITES = ['startup', 'steps', 'handover', 'throughput', 'api', 'memory'];
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
const tools = await toolsFor({ state, namespace, log });
log(`plane ${state.server} (${state.version}), namespace ${namespace}${tools.klock ? '' : `; ${tools.klockNote}`}`);

const results = {};
const loadBefore = loadavg();
if (only.includes('startup')) results.startup = await startup({ tools, state, rounds: q ? 5 : 20, log });
if (only.includes('steps')) results.steps = await startupSteps({ tools, rounds: q ? 3 : 10, log });
if (only.includes('handover')) results.handover = await handover({ kube, tools, samplesFor: (w) => (q ? 5 : w === 1 ? 20 : 40), log });
if (only.includes('throughput')) results.throughput = await throughput({ kube, tools, contenders: 20, sections: 5, log });
if (only.includes('api')) results.api = await apiCost({ kube, tools, repeats: q ? 3 : 5, idleWaiters: q ? 20 : 100, windowMs: q ? 16_000 : 32_000, log });
if (only.includes('memory')) results.memory = await memory({ tools, repeats: q ? 1 : 3, log });

const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, kubernetes: state.version, loadBefore, loadAfter: loadavg() };
const report = { date: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), quick: q, machine, namespace, klock: tools.klock ? tools.klockBin : tools.klockNote, results };
const files = writeReport(report, args.out);
log(`done in ${report.seconds} s: ${files.join(', ')}`);
process.exit(0);
