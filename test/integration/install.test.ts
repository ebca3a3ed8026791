// koncli installed like a real tool: the npm tarball installed globally into an empty prefix and
// run from there (as koncli and as a kubectl plugin), the Node version check, shell completion in
// bash, and the krew manifest.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KONCLI_BIN, runKoncli } from '../support/cli.js';
import { kubectlPath, runCommand } from '../support/access.js';
import { adminKubeconfigPath, freshNamespace } from './helpers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const nodeDir = dirname(process.execPath);

describe('npm pack → npm install -g --prefix <empty> → run', () => {
  let prefix: string;
  let files: string[];
  let ns: string;

  beforeAll(async () => {
    ns = await freshNamespace('install');
    const out = mkdtempSync(join(tmpdir(), 'koncli-pack-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    files = packed[0].files.map((f: { path: string }) => f.path);
    prefix = mkdtempSync(join(tmpdir(), 'koncli-prefix-'));
    // The runtime dependencies come from the npm cache when it has them, else from the registry.
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(out, packed[0].filename)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }, 180_000);

  test('the tarball holds the built CLI, its manifest and both bins; no sources, tests or dev files', () => {
    for (const f of [
      'package.json',
      'bin/run.js',
      'bin/kubectl-koncli.js',
      'bin/kubectl_complete-koncli.js',
      '.oclif.manifest.json',
      'dist/entry.js',
      'dist/cli/argv.js',
      'config/crd/konductor.io_leases.yaml',
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => /^(src|test|bench|scripts)\/|^bin\/dev\.js$|tsconfig|jest\.config/.test(f))).toEqual([]);
    // Nor the single executable (npm run package) that dist/ may hold beside the npm build.
    expect(files.filter((f) => /^dist\/(bin|exe)\//.test(f))).toEqual([]);
    // Source maps are those of dist/ (stack traces); none of them maps a test.
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(prefix, 'lib', 'node_modules', 'koncli', map), 'utf8'));
      expect(sources.filter((s: string) => /(^|\/)test\//.test(s))).toEqual([]);
    }
    // Installed without dev dependencies.
    const installed = readdirSync(join(prefix, 'lib', 'node_modules', 'koncli', 'node_modules'));
    for (const dev of Object.keys(pkg.devDependencies)) expect(installed).not.toContain(dev);
  });

  const env = (extraPath: string[] = []) => ({
    ...process.env,
    PATH: [join(prefix, 'bin'), nodeDir, ...extraPath, process.env.PATH].join(delimiter),
    NO_COLOR: '1',
  });

  test('koncli runs from the prefix against the cluster, with kubectl-style flags before the command', async () => {
    const version = await runCommand(join(prefix, 'bin', 'koncli'), ['--version'], { env: env(), cwd: tmpdir() });
    expect(version.stdout).toMatch(new RegExp(`^koncli/${pkg.version.replace(/\./g, '\\.')} `));
    const status = await runCommand('koncli', ['-n', ns, '--kubeconfig', adminKubeconfigPath(), 'lease', 'status', '--json'], { env: env(), cwd: tmpdir() });
    expect(status).toMatchObject({ code: 0 });
    expect(JSON.parse(status.stdout)).toEqual({ kind: 'LockList', items: [] });
  });

  test("kubectl koncli … works through the kubectl-koncli bin (the plane's kubectl, PATH set)", async () => {
    const acquired = await runCommand(
      kubectlPath(),
      ['koncli', 'lease', 'acquire', 'plugged', '--holder', 'me', '-n', ns, '--kubeconfig', adminKubeconfigPath(), '--json'],
      { env: env(), cwd: tmpdir() },
    );
    expect(acquired).toMatchObject({ code: 0 });
    const status = await runCommand(kubectlPath(), ['koncli', 'lease', 'status', 'plugged', '-n', ns, '--kubeconfig', adminKubeconfigPath(), '-o', 'json'], {
      env: env(),
      cwd: tmpdir(),
    });
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'plugged', holder: 'me' });
    const list = await runCommand(kubectlPath(), ['plugin', 'list'], { env: env(), cwd: tmpdir() });
    expect(list.stdout).toContain(join(prefix, 'bin', 'kubectl-koncli'));
  });

  test('on a Node older than engines, one line naming the Node needed and the one found, exit 1', async () => {
    const old = (process.env.PATH ?? '')
      .split(delimiter)
      .map((d) => join(d, 'node'))
      .find((node) => {
        const v = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
        return v && Number(v.split('.')[0]) < 22;
      });
    if (!old) {
      console.warn('SKIPPED: no Node older than 22 on PATH to try koncli with');
      return;
    }
    const r = await runCommand(old, [join(prefix, 'bin', 'koncli'), 'lease', 'status'], { cwd: tmpdir() });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Node.js ${pkg.engines.node}`);
    expect(lines[0]).toContain(spawnSync(old, ['--version'], { encoding: 'utf8' }).stdout.trim());
  });
});

describe('shell completion', () => {
  test('the bash script completes topics, commands, flags and fixed flag values', async () => {
    const script = await runKoncli(['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'koncli-completion-')), 'koncli.bash');
    writeFileSync(file, script.stdout);
    const complete = (words: string[]) => {
      const line = `source '${file}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _koncli; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', line], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    };
    expect(complete(['koncli', ''])).toEqual(expect.arrayContaining(['lease', 'semaphore', 'kubelock', 'crd', 'completion']));
    expect(complete(['koncli', 'lease', ''])).toEqual(['acquire', 'release', 'renew', 'run', 'status']);
    expect(complete(['koncli', '-n', 'ops', 'lease', 'st'])).toEqual(['status']); // a global flag's value is not a command
    expect(complete(['koncli', 'lease', 'acquire', 'job', '--ho'])).toEqual(['--holder']);
    expect(complete(['koncli', 'lease', 'run', 'job', '--kind', ''])).toEqual(['konductor', 'native']);
    expect(complete(['kubectl-koncli', 'semaphore', 'status', '-o', ''])).toEqual(['json', 'text', 'yaml']);
    expect(complete(['koncli', 'lease', 'status', '--kubeconfig', ''])).toEqual([]); // free-form value
  });

  test('the zsh script loads the same completion through bashcompinit', async () => {
    const script = await runKoncli(['completion', 'zsh']);
    expect(script.stdout).toMatch(/^#compdef koncli kubectl-koncli/);
    expect(script.stdout).toContain('bashcompinit');
    expect(script.stdout).toContain('complete -F _koncli koncli kubectl-koncli');
    if (spawnSync('zsh', ['--version']).status !== 0) console.warn('zsh is not installed: its script was checked as text only');
  });
});

describe('krew plugin manifest (.krew.yaml)', () => {
  test('renders (as krew-release-bot does at a tag) into a valid plugin manifest for this version', () => {
    const tag = `v${pkg.version}`;
    const rendered = readFileSync(join(REPO, '.krew.yaml'), 'utf8')
      .replace(/\{\{addURIAndSha "([^"]+)" \.TagName \}\}/g, (_m, uri: string) => `uri: ${uri.replace('{{ .TagName }}', tag)}\n    sha256: ${'ab'.repeat(32)}`)
      .replace(/\{\{ \.TagName \}\}/g, tag);
    expect(rendered).not.toMatch(/\{\{|\}\}/);
    const manifest = parse(rendered);
    expect(manifest).toMatchObject({
      apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
      kind: 'Plugin',
      metadata: { name: 'koncli' },
      spec: { version: tag },
    });
    expect(manifest.spec.version).toMatch(/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(manifest.spec.shortDescription.length).toBeLessThanOrEqual(50);
    expect(manifest.spec.platforms.length).toBeGreaterThanOrEqual(1);
    const seen = new Set<string>();
    for (const p of manifest.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      expect(['linux', 'darwin', 'windows']).toContain(os);
      expect(['amd64', 'arm64']).toContain(arch);
      expect(seen.has(`${os}/${arch}`)).toBe(false);
      seen.add(`${os}/${arch}`);
      expect(p.uri).toMatch(new RegExp(`^https://.+/${tag}/kubectl-koncli-${os}-${arch}\\.tar\\.gz$`));
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(p.bin).toBe('kubectl-koncli'); // what kubectl finds on PATH, as package.json's bin
      expect(p.files.map((f: { from: string }) => f.from)).toContain(p.bin);
    }
    expect(Object.keys(pkg.bin)).toContain(`kubectl-${manifest.metadata.name}`);
  });
});

// bin/run.js is what both bins run (kubectl-koncli imports it).
test('bin/kubectl-koncli.js runs the same entry as bin/run.js', () => {
  expect(readFileSync(join(REPO, 'bin', 'kubectl-koncli.js'), 'utf8')).toContain("import './run.js'");
  expect(KONCLI_BIN.endsWith(join('bin', 'run.js'))).toBe(true);
});
