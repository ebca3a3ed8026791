// konductor's `semaphore` surface on kube-lock semaphores, on the real API server through the real
// CLI, written from konductor's docs/cli/semaphore.md and docs/api/semaphore.md (their examples
// and usage patterns as written): create --permits, acquire (its defaults: a 10m TTL, try once
// without --wait/--timeout), release, status, list, delete; --permits as --max's alias; the stored
// annotation stays kube-lock's format.
import { CoreV1Api } from '@kubernetes/client-node';
import { clusterArgs, runAsKoncliScript, runKoncli } from '../support/cli.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const shell = (script: string, env?: Record<string, string>) => runAsKoncliScript(admin, ns, script, env);
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)]);
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const annotationOf = async (name: string) =>
  JSON.parse((await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.annotations!['kube-lock']) as {
    max: number;
    holders: Record<string, { ttlSeconds?: number }>;
    ttlSeconds?: number;
  };

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('semkonductor');
});

describe("konductor's semaphore verbs (docs/cli/semaphore.md)", () => {
  test('create --permits, acquire ×2 then busy (exit 3), status -o json, list, release, delete', async () => {
    expect((await koncli('semaphore', 'create', 'api-limit', '--permits', '2')).code).toBe(0);
    expect(await annotationOf('api-limit')).toEqual({ max: 2, holders: {} });
    expect((await koncli('semaphore', 'create', 'api-limit', '--permits', '2')).code).toBe(0); // exists, same settings
    const other = await koncli('semaphore', 'create', 'api-limit', '--permits', '3');
    expect([other.code, other.stderr.trim().split('\n').length]).toEqual([2, 1]);

    const mine = await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'my-app', '--ttl', '10m', '--json');
    expect(mine.code).toBe(0);
    expect(json(mine.stdout)).toMatchObject({ outcome: 'acquired', holder: 'my-app', max: 2, ttlSeconds: 600 });
    expect((await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'other')).code).toBe(0);
    expect((await annotationOf('api-limit')).holders.other.ttlSeconds).toBe(600); // konductor's default TTL
    const full = await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'third');
    expect(full.code).toBe(3); // no --wait/--timeout: tries once
    const waited = await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'third', '--wait', '--timeout', '1s');
    expect(waited.code).toBe(3);

    const status = json((await koncli('semaphore', 'status', 'api-limit', '-o', 'json')).stdout);
    expect(status).toMatchObject({ max: 2 });
    expect((await koncli('semaphore', 'list')).stdout).toMatch(/^api-limit\s+my-app,other\s+held 2\/2\s/m);

    expect((await koncli('semaphore', 'release', 'api-limit', '--holder', 'my-app')).code).toBe(0);
    expect(await annotationOf('api-limit')).toMatchObject({ holders: { other: {} } }); // only my-app's permit went
    expect((await koncli('semaphore', 'delete', 'api-limit')).code).toBe(3); // `other` still holds one
    expect((await koncli('semaphore', 'release', 'api-limit', '--holder', 'other')).code).toBe(0);
    expect((await koncli('semaphore', 'delete', 'api-limit')).code).toBe(0);
    expect((await koncli('semaphore', 'acquire', 'api-limit')).code).toBe(6); // acquire needs an existing semaphore
  });

  test('create --ttl sets the default TTL of acquired permits; --permits is --max of semaphore lock', async () => {
    expect((await koncli('semaphore', 'create', 'batch-limit', '--permits', '3', '--ttl', '5m')).code).toBe(0);
    expect(await annotationOf('batch-limit')).toEqual({ max: 3, holders: {}, ttlSeconds: 300 });
    expect((await koncli('semaphore', 'acquire', 'batch-limit', '--holder', 'w1')).code).toBe(0);
    expect((await annotationOf('batch-limit')).holders.w1.ttlSeconds).toBe(300);
    expect((await koncli('semaphore', 'lock', 'batch-limit', '--holder', 'w2', '--permits', '3')).code).toBe(0);
    const mismatch = await koncli('semaphore', 'lock', 'batch-limit', '--holder', 'w3', '--permits', '4');
    expect(mismatch.code).toBe(2);
  });

  test('a ConfigMap koncli did not create is not deleted (exit 9), its data left as it was', async () => {
    await core().createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'app-config', annotations: { 'kube-lock': '{"max":1}' } }, data: { k: 'v' } },
    });
    const r = await koncli('semaphore', 'delete', 'app-config');
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/kubectl annotate configmap app-config kube-lock-/);
    expect((await core().readNamespacedConfigMap({ name: 'app-config', namespace: ns })).data).toEqual({ k: 'v' });
  });

  test("the docs' rate limiting and batch processing scripts run unchanged", async () => {
    expect((await koncli('semaphore', 'create', 'api-quota', '--permits', '1')).code).toBe(0);
    const rate = `
      call-external-api() { echo "calling"; }
      SEMAPHORE="api-quota"
      HOLDER="script-$$"
      if koncli semaphore acquire $SEMAPHORE --holder $HOLDER --ttl 5m; then
          trap "koncli semaphore release $SEMAPHORE --holder $HOLDER" EXIT
          call-external-api
      else
          echo "Failed to acquire permit"
          exit 1
      fi`;
    expect((await shell(rate)).trim()).toBe('calling');
    expect((await annotationOf('api-quota')).holders).toEqual({}); // released by the trap
    // Held by someone else: the script's else branch.
    expect((await koncli('semaphore', 'acquire', 'api-quota', '--holder', 'someone', '--ttl=5m')).code).toBe(0);
    await expect(shell(rate)).rejects.toThrow(/Failed to acquire permit|status 1/);

    expect((await koncli('semaphore', 'create', 'batch-items', '--permits', '2')).code).toBe(0);
    const batch = `
      process-item() { echo "processed $1"; }
      printf 'a\\nb\\n' > batch-items.txt
      for item in $(cat batch-items.txt); do
          if koncli semaphore acquire batch-items --wait --timeout 30s; then
              process-item $item &
          else
              echo "Skipping $item - no permits available"
          fi
      done
      wait
      koncli semaphore release batch-items`;
    const out = await shell(`cd "$(mktemp -d)"\n${batch}`, { KONCLI_HOLDER: 'batch-host' });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['processed a', 'processed b']);
    expect((await annotationOf('batch-items')).holders).toEqual({});
  });
});

describe("konductor's `koncli status` subcommands (its cli/status.go: all, semaphore, barrier, lease, gate)", () => {
  test('status all is koncli status; status KIND NAME is KIND status NAME, with its exit codes', async () => {
    expect((await koncli('semaphore', 'create', 'status-pool', '--permits', '2')).code).toBe(0);
    expect((await koncli('semaphore', 'acquire', 'status-pool', '--holder', 'worker-1')).code).toBe(0);
    expect((await koncli('barrier', 'create', 'status-barrier', '--expected', '2')).code).toBe(0);
    expect((await koncli('gate', 'create', 'status-gate')).code).toBe(0);
    expect((await koncli('lease', 'acquire', 'status-lease', '--holder', 'leader')).code).toBe(0);

    const all = await koncli('status', 'all', '--json');
    expect(all.code).toBe(0);
    expect((json(all.stdout).items as { name: string }[]).map((i) => i.name)).toEqual(expect.arrayContaining(['status-pool', 'status-lease']));
    expect(json((await koncli('status', 'semaphore', 'status-pool', '--json')).stdout)).toMatchObject({
      max: 2,
      holders: [expect.objectContaining({ holder: 'worker-1' })],
    });
    expect(json((await koncli('status', 'barrier', 'status-barrier', '--json')).stdout)).toMatchObject({ phase: 'Waiting', expected: 2 });
    expect(json((await koncli('status', 'gate', 'status-gate', '--json')).stdout)).toMatchObject({ phase: 'Waiting' });
    expect(json((await koncli('status', 'lease', 'status-lease', '--json')).stdout)).toMatchObject({ holder: 'leader' });
    const missing = await koncli('status', 'barrier', 'no-such-barrier');
    expect([missing.code, missing.stderr.trim().split('\n')]).toEqual([6, [expect.stringMatching(/^koncli: error: barrier no-such-barrier does not exist/)]]);
    const typo = await koncli('status', 'semaphores', 'status-pool');
    expect([typo.code, typo.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^koncli: error: unknown command "status semaphores"; did you mean "\S*koncli status semaphore"\?/),
    ]);
    // `semaphore list` is not `status semaphore` (it takes no NAME).
    expect((await koncli('semaphore', 'list')).stdout).toMatch(/^status-pool\s+worker-1\s+held 1\/2\s/m);
  });
});
