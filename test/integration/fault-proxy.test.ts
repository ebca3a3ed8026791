// The fault proxy (test/support/fault-proxy.ts) does what the fault tests rely on: it delays an
// answer, loses an answer after the write landed, resets, freezes a connection and injects into a
// watch stream. Proven with koncli and kubectl going through it to the real API server.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { runKoncli } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { kubectlPath } from '../support/access.js';
import { spawn } from 'node:child_process';
import { until } from '../support/poll.js';
import { adminConfig, freshNamespace } from './helpers.js';

let ns: string;
let proxy: FaultProxy;
let kubeconfig: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);

beforeAll(async () => {
  ns = await freshNamespace('fault-proxy');
  proxy = await startFaultProxy();
  kubeconfig = proxy.kubeconfig(mkdtempSync(join(tmpdir(), 'koncli-fault-proxy-')), ns);
});
afterAll(() => proxy.close());
afterEach(() => proxy.clearRules());

test('passes requests through unchanged', async () => {
  const r = await runKoncli(['lease', 'acquire', 'plain', '--holder', 'a', '--timeout', '0', '--json', '--kubeconfig', kubeconfig]);
  expect(r.code).toBe(0);
  expect((await leases().readNamespacedLease({ name: 'plain', namespace: ns })).spec?.holderIdentity).toBe('a');
  expect(proxy.seen.some((s) => s.method === 'POST' && s.path.includes('/leases'))).toBe(true);
});

test('delayAnswerMs holds the answer, not the request: the write lands before koncli hears of it', async () => {
  proxy.rule({ method: 'POST', path: /\/leases/ }, { delayAnswerMs: 1500 }, 1);
  const started = Date.now();
  const run = runKoncli(['lease', 'acquire', 'slow', '--holder', 'a', '--timeout', '0', '--kubeconfig', kubeconfig]);
  await until('the lease exists while its answer is held', async () => {
    try {
      return (await leases().readNamespacedLease({ name: 'slow', namespace: ns })).spec?.holderIdentity === 'a';
    } catch {
      return false;
    }
  });
  const landedAfter = Date.now() - started;
  const r = await run;
  expect(r.code).toBe(0);
  expect(r.ms).toBeGreaterThanOrEqual(1500);
  expect(landedAfter).toBeLessThan(r.ms);
});

test('loseAnswer lets the write land and resets the connection: koncli never hears of it', async () => {
  proxy.rule({ method: 'POST', path: /\/leases/ }, { loseAnswer: 'reset' });
  await runKoncli(['lease', 'acquire', 'lost', '--holder', 'a', '--timeout', '0', '--kubeconfig', kubeconfig]);
  expect((await leases().readNamespacedLease({ name: 'lost', namespace: ns })).spec?.holderIdentity).toBe('a');
  expect(proxy.seen.filter((s) => s.fault === 'loseAnswer').length).toBeGreaterThanOrEqual(1);
});

test('freezeAll silences an open watch without closing it; inject adds a line to a live watch stream', async () => {
  await leases().createNamespacedLease({ namespace: ns, body: { metadata: { name: 'watched' }, spec: { holderIdentity: 'x' } } });
  const watch = spawn(kubectlPath(), ['--kubeconfig', kubeconfig, '-n', ns, 'get', 'lease', 'watched', '--watch', '-o', 'name', '--output-watch-events']);
  let out = '';
  watch.stdout.on('data', (d) => (out += d));
  try {
    await until('the watch delivers the first event', () => out.includes('lease.coordination.k8s.io/watched'));
    await until('the watch stream is open through the proxy', () => proxy.watches({ path: /leases/ }) === 1);
    const streams = proxy.inject(
      { watch: true, path: /leases/ },
      JSON.stringify({
        type: 'MODIFIED',
        object: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'injected', namespace: ns, resourceVersion: '1' } },
      }),
    );
    expect(streams).toBe(1);
    await until('the injected event reaches the client', () => out.includes('lease.coordination.k8s.io/injected'));
    expect(proxy.freezeAll()).toBeGreaterThanOrEqual(1);
    const before = out;
    await leases().patchNamespacedLease({ name: 'watched', namespace: ns, body: [{ op: 'replace', path: '/spec/holderIdentity', value: 'y' }] });
    await new Promise((r) => setTimeout(r, 1500));
    expect(out).toBe(before);
    expect(watch.exitCode).toBe(null);
  } finally {
    watch.kill('SIGKILL');
  }
});
