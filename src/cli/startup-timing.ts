// Start-up, step by step, for the bench (bench/suites/startup-steps.mjs): with KONCLI_STARTUP_TIMING=1
// koncli marks each step as it passes it and prints them at exit as one JSON line on stderr:
// {"timing":{"nodeStart":…,"entry":…,"oclifLoaded":…,"kubeconfig":…,"connected":…,"response":…,"output":…,"exit":…}}
// (ms since the process started: performance.timeOrigin). Off, a mark costs one environment read.
import { subscribe } from 'node:diagnostics_channel';
import { stderr } from './stderr.js';

const marks: Record<string, number> = {};
let on: boolean | undefined;

/** Records that start-up reached `step` (once; the first time counts). Read at run time, never at build time. */
export function markStartup(step: string): void {
  on ??= process.env.KONCLI_STARTUP_TIMING === '1' && enable();
  if (on && marks[step] === undefined) marks[step] = Math.round(performance.now() * 100) / 100;
}

function enable(): true {
  // Node's own milestones, from its process start (performance.nodeTiming, ms since timeOrigin).
  const t = performance.nodeTiming;
  Object.assign(marks, { v8Start: t.v8Start, environment: t.environment, bootstrapComplete: t.bootstrapComplete });
  // undici's diagnostics channels: the connection (TCP + TLS handshake done) and the first response.
  subscribe('undici:client:connected', () => markStartup('connected'));
  subscribe('undici:request:headers', () => markStartup('response'));
  process.on('exit', () => {
    markStartup('exit');
    stderr().write(`${JSON.stringify({ timing: marks })}\n`);
  });
  return true;
}
