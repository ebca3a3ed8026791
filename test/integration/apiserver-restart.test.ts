// `lease run` across a restart of the real kube-apiserver shorter than the renew deadline: the command
// runs on. This file restarts the shared control plane, so scripts/test.mjs runs it alone, after the
// other integration files (which run side by side and would see the API server vanish).
import { CoordinationV1Api } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, spawnKoncli } from '../support/cli.js';
import { until } from '../support/poll.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';
// @ts-expect-error plain ESM module without types
import { restartApiserver } from '../cluster/plane.mjs';

let ns: string;
let admin: string;
let dir: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const holderOf = async (name: string) =>
  (
    await leases()
      .readNamespacedLease({ name, namespace: ns })
      .catch(() => undefined)
  )?.spec?.holderIdentity ?? '';

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('apiserver-restart');
  dir = mkdtempSync(join(tmpdir(), 'koncli-restart-'));
});

test('lease run: an API-server restart shorter than the renew deadline does not interrupt the command', async () => {
  const log = join(dir, 'restart.log');
  const child = spawnKoncli([
    'lease',
    'run',
    'survives',
    '--ttl',
    '30s',
    '--holder',
    'steady',
    ...clusterArgs(admin, ns),
    '--',
    'sh',
    '-c',
    `echo started >> ${log}; sleep 12; echo finished >> ${log}`,
  ]);
  const done = collect(child);
  await until('holder to hold', async () => (await holderOf('survives')) === 'steady');
  await restartApiserver();
  const result = await done;
  expect(result.code).toBe(0);
  expect(readFileSync(log, 'utf8')).toBe('started\nfinished\n');
  expect(result.stderr).not.toMatch(/lease lost/);
}, 90_000);
