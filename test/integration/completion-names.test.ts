// Completion of names (issue 23), in bash: `koncli completion bash` loaded into a real bash, _koncli
// called as bash calls it (COMP_WORDS, COMP_CWORD), with koncli on PATH; and `kubectl koncli …`
// through the plane's kubectl, which asks kubectl_complete-koncli (kubectl ≥ 1.26). Names come from
// the cluster: namespaces, contexts, leases, semaphores, objects (kubelock TYPE/NAME) and lock names.
import { mkdtempSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { kubectlPath, runCommand } from '../support/access.js';
import { KONCLI_ARGV, KONCLI_COMMAND, runKoncli } from '../support/cli.js';
import { adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ns = await freshNamespace('completion');
  const admin = adminKubeconfigPath();
  const run = (args: string[]) => runKoncli([...args, '--kubeconfig', admin, '-n', ns]);
  for (const name of ['nightly-report', 'db-migration']) expect((await run(['lease', 'acquire', name, '--holder', 'me'])).code).toBe(0);
  expect((await run(['semaphore', 'lock', 'db-restarts', '--holder', 'me', '--create'])).code).toBe(0);
  await runCommand(kubectlPath(), ['--kubeconfig', admin, '-n', ns, 'create', 'configmap', 'cluster-config']);
  expect((await run(['kubelock', 'annotate', 'cm/cluster-config', '--lock', 'ip-allocation', '--owner', 'me'])).code).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'koncli-completion-'));
  // koncli as a user has it on PATH; the completion plugin under the name kubectl looks for.
  writeFileSync(join(dir, 'koncli'), `#!/bin/sh\nexec ${KONCLI_COMMAND} "$@"\n`);
  chmodSync(join(dir, 'koncli'), 0o755);
  // kubectl completes a plugin's words only when the plugin (kubectl-koncli) is on PATH too.
  for (const name of ['kubectl-koncli', 'kubectl_complete-koncli']) {
    const target = process.env.KONCLI_TEST_EXECUTABLE ? KONCLI_ARGV[0] : resolve(dirname(KONCLI_ARGV[1]), `${name}.js`);
    symlinkSync(target, join(dir, name));
  }
  env = { ...process.env, PATH: [dir, dirname(process.execPath), process.env.PATH].join(':'), KUBECONFIG: admin };
}, 90_000);

/** What bash offers for the words typed (the last one being completed). */
async function complete(words: string[]): Promise<string[]> {
  const script = [
    'source <(koncli completion bash)',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_koncli',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = await runCommand('bash', ['-c', script], { env, timeoutMs: 60_000 });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('completion of names in bash', () => {
  test('lease and semaphore names of the namespace typed, namespaces and contexts', async () => {
    expect(await complete(['koncli', 'lease', 'status', '-n', ns, ''])).toEqual(['db-migration', 'nightly-report']);
    expect(await complete(['koncli', 'lease', 'release', '-n', ns, 'ni'])).toEqual(['nightly-report']);
    expect(await complete(['koncli', 'semaphore', 'unlock', '-n', ns, ''])).toEqual(['db-restarts']);
    expect(await complete(['koncli', 'lease', 'status', '-n', ns.slice(0, -3)])).toEqual([ns]);
    expect(await complete(['koncli', 'status', '--context', ''])).toEqual(['koncli-admin']);
    // The static parts still work: commands and flags.
    expect(await complete(['koncli', 'lease', 'st'])).toEqual(['status']);
    expect(await complete(['koncli', 'status', '--st'])).toEqual(['--stuck']);
  }, 120_000);

  test('kubelock objects (TYPE/NAME) and the lock names on one', async () => {
    expect(await complete(['koncli', 'kubelock', 'status', '-n', ns, 'cm/'])).toEqual(['cm/cluster-config', 'cm/db-restarts']);
    expect(await complete(['koncli', 'kubelock', 'status', '-n', ns, 'cm/cl'])).toEqual(['cm/cluster-config']);
    expect(await complete(['koncli', 'kubelock', 'annotate', 'cm/cluster-config', '-n', ns, '--lock', ''])).toEqual(['ip-allocation']);
  }, 120_000);

  test('kubectl koncli <TAB>: kubectl asks kubectl_complete-koncli', async () => {
    const r = await runCommand(kubectlPath(), ['__complete', 'koncli', 'lease', 'status', '-n', ns, ''], { env });
    expect(r.stdout.split('\n')).toEqual(['db-migration', 'nightly-report', ':4', '']);
    const top = await runCommand(kubectlPath(), ['__complete', 'koncli', 'sem'], { env });
    expect(top.stdout.split('\n')[0]).toBe('semaphore');
  }, 60_000);
});
