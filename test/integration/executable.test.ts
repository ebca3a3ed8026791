// The single executable (npm run package, dist/bin/koncli): it runs where no Node is installed,
// and answers help, --version and unknown commands as the npm build does. The rest of the
// integration suite runs against it as well (scripts/test.mjs sets KONCLI_TEST_EXECUTABLE).
import { CoordinationV1Api } from '@kubernetes/client-node';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KONCLI_BIN } from '../support/cli.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const exe = process.env.KONCLI_TEST_EXECUTABLE;
const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((p) => existsSync(p));
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
const MOUNT = ['/usr/bin/mount', '/bin/mount'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
if (!exe)
  process.stderr.write('[executable] SKIPPING: KONCLI_TEST_EXECUTABLE is not set (npm test sets it for its second integration run, after npm run package)\n');
else if (!CHROOT || !UNSHARE || !MOUNT || !isRoot)
  process.stderr.write(`[executable] SKIPPING the minimal root file system test: ${!isRoot ? 'chroot needs root' : 'no chroot, unshare or mount binary'}\n`);

/** Every file under `dir`, relative to it. */
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)).map((g) => join(f, g)) : [f]));

(exe && CHROOT && UNSHARE && MOUNT && isRoot ? describe : describe.skip)('the single executable in a root file system with no Node', () => {
  let root: string;
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('exe');
    // Only the executable, the shared libraries ldd names for it, and a kubeconfig (its
    // certificates are inline): no Node, no /etc, /dev or /tmp. /proc is mounted, as in every
    // container: Bun aborts at start without it (docs/performance.md, "What it needs from the host").
    root = mkdtempSync(join(tmpdir(), 'koncli-root-'));
    copyFileSync(exe!, join(root, 'koncli'));
    execFileSync('chmod', ['755', join(root, 'koncli')]);
    const libs = [...execFileSync('ldd', [exe!], { encoding: 'utf8' }).matchAll(/(\/\S+)/g)].map((m) => m[1]);
    for (const lib of libs) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib)); // follows the symlink: the file itself
    }
    copyFileSync(adminKubeconfigPath(), join(root, 'kubeconfig'));
    mkdirSync(join(root, 'proc'));
  });
  afterAll(() => root && rmSync(root, { recursive: true, force: true }));

  /**
   * koncli inside the root, with an environment as small as a container's (HOME only: see
   * docs/performance.md), in a mount namespace of its own where the root's /proc is mounted.
   */
  const inRoot = (...args: string[]) => {
    const dash = args.indexOf('--');
    const [own, command] = dash < 0 ? [args, []] : [args.slice(0, dash), args.slice(dash)];
    const argv = [root, '/koncli', ...own, '--kubeconfig', '/kubeconfig', '-n', ns, ...command];
    const r = spawnSync(UNSHARE!, ['--mount', '/bin/sh', '-c', `${MOUNT!} -t proc proc "$1/proc" && exec "$0" "$@"`, CHROOT!, ...argv], {
      encoding: 'utf8',
      env: { HOME: '/' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test('acquires, reports and runs a command under a Lease against the local plane', async () => {
    const tree = files(root).sort();
    expect(tree.filter((f) => !f.startsWith('lib'))).toEqual(['koncli', 'kubeconfig']); // and the empty mount point proc/
    expect(tree.some((f) => /(^|\/)node$/.test(f))).toBe(false);

    const acquired = inRoot('lease', 'acquire', 'from-chroot', '--holder', 'chroot-holder', '--timeout', '0', '--json');
    expect(acquired).toMatchObject({ code: 0 });
    expect(JSON.parse(acquired.stdout)).toMatchObject({ lease: 'from-chroot', holder: 'chroot-holder', outcome: 'acquired' });

    const status = inRoot('lease', 'status', 'from-chroot', '--json');
    expect(status).toMatchObject({ code: 0 });
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'from-chroot', holder: 'chroot-holder', phase: 'Held' });
    const lease = await adminConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'from-chroot', namespace: ns });
    expect(lease.spec?.holderIdentity).toBe('chroot-holder');

    // A command under a Lease: the executable runs itself as the command (the root has nothing else).
    const run = inRoot('lease', 'run', 'run-in-chroot', '--', '/koncli', '--version');
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/^koncli\/\S+ linux-\S+ node-v\d+/);
  });
});

(exe ? describe : describe.skip)('the single executable and the npm build', () => {
  const both = (args: string[]) =>
    [
      spawnSync(process.execPath, [KONCLI_BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }),
      spawnSync(exe!, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }),
    ].map((r) => ({
      code: r.status,
      // The version line names the runtime's Node version: the test's Node for the npm build, the
      // one Bun implements for the executable (process.version); everything else is the same.
      stdout: r.stdout.replace(/ node-v\d+\.\d+\.\d+$/m, ' node-vX'),
      stderr: r.stderr,
    }));

  test.each(['--version', 'lease --help', 'help lease', 'lease status --help', 'lease frob', 'frob'])('answer `koncli %s` alike', (line) => {
    const [npm, single] = both(line.split(' '));
    expect(single).toEqual(npm);
    if (line === '--version') expect(single.stdout).toMatch(/^koncli\/\S+ linux-\S+ node-vX\n$/);
  });

  test('list the same commands in --help, but for autocomplete (its plugin exports no commands to bundle)', () => {
    const [npm, single] = both(['--help']);
    expect(single.code).toBe(0);
    const withoutAutocomplete = npm.stdout.split('\n').filter((l) => !/^\s+autocomplete\s/.test(l));
    // oclif pads the COMMANDS column to its longest name, which autocomplete was, so the summaries
    // wrap at other words: compared as one run of words.
    const squeeze = (lines: string[]) => lines.join('\n').replace(/\s+/g, ' ');
    expect(squeeze(single.stdout.split('\n'))).toEqual(squeeze(withoutAutocomplete));
  });
});
