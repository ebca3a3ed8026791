// The examples in README.md and docs/ that run against a cluster cannot rot: every fenced block
// whose info string is `sh runnable` runs here, in bash (-e -o pipefail), on the local plane; words
// after `runnable` are NAME=value settings of the environment the text around the block asks for.
// Blocks of one file run in order in one fresh namespace, given as $NS and as the kubeconfig
// context's namespace; koncli, kubectl-koncli and the plane's kubectl are on PATH; the working
// directory has the repository's docs/ and config/, and a stub for each `./name.sh` a block runs.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { KONCLI_COMMAND, runKoncli } from '../support/cli.js';
import { until } from '../support/poll.js';
import { kubectlPath, type Run } from '../support/access.js';
import { adminKubeconfigPath, freshNamespace } from './helpers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Block {
  file: string;
  line: number;
  script: string;
  env: Record<string, string>;
}

/** Every `sh runnable` block of README.md and docs/**.md, in file order. */
function runnableBlocks(): Block[] {
  const docs = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? docs(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
  const blocks: Block[] = [];
  for (const path of [join(REPO, 'README.md'), ...docs(join(REPO, 'docs'))]) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/^( *)```sh runnable((?: +\w+=\S*)*)\n([\s\S]*?)^\1```$/gm)) {
      const indent = m[1].length;
      const env = Object.fromEntries(
        m[2]
          .trim()
          .split(/ +/)
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      blocks.push({
        file: relative(REPO, path),
        line: text.slice(0, m.index).split('\n').length,
        script: m[3].replace(new RegExp(`^ {${indent}}`, 'gm'), ''),
        env,
      });
    }
  }
  return blocks;
}

const blocks = runnableBlocks();
const byFile = new Map<string, Block[]>();
for (const b of blocks) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b]);

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

test('README.md and docs/ have runnable examples', () => {
  expect(byFile.get('README.md')?.length).toBeGreaterThanOrEqual(3);
  expect(blocks.length).toBeGreaterThanOrEqual(8);
});

describe.each([...byFile.keys()])('%s', (file) => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const ns = await freshNamespace('docs');
    cwd = mkdtempSync(join(tmpdir(), 'koncli-docs-'));
    for (const d of ['docs', 'config']) symlinkSync(join(REPO, d), join(cwd, d));
    const bin = join(cwd, '.bin');
    mkdirSync(bin);
    for (const name of ['koncli', 'kubectl-koncli']) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec ${KONCLI_COMMAND} "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    symlinkSync(kubectlPath(), join(bin, 'kubectl'));
    const kubeconfig = parse(readFileSync(adminKubeconfigPath(), 'utf8'));
    for (const c of kubeconfig.contexts) c.context.namespace = ns;
    writeFileSync(join(cwd, '.kubeconfig'), stringify(kubeconfig), { mode: 0o600 });
    for (const b of byFile.get(file)!) {
      for (const [, stub] of b.script.matchAll(/\.\/([\w.-]+\.sh)\b/g)) {
        writeFileSync(join(cwd, stub), `#!/bin/sh\necho "${stub} ran" >&2\n`);
        chmodSync(join(cwd, stub), 0o755);
      }
    }
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: join(cwd, '.kubeconfig'), NS: ns, NO_COLOR: '1', KONCLI_LEASE_KIND: undefined };
  });

  test.each(byFile.get(file)!.map((b) => [`line ${b.line}`, b] as const))('%s', async (_name, block) => {
    const r = await bash(block.script, cwd, { ...env, ...block.env });
    if (r.code !== 0)
      throw new Error(`${block.file}:${block.line} exited ${r.code}\n--- script\n${block.script}--- stderr\n${r.stderr}--- stdout\n${r.stdout}`);
  });
});

describe("docs/guide.md's renewal loop", () => {
  test('with its lease broken midway it stops the worker and exits 4', async () => {
    const guide = readFileSync(join(REPO, 'docs', 'guide.md'), 'utf8');
    const loop = /^```sh renewal-loop\n([\s\S]*?)^```$/m.exec(guide)?.[1];
    expect(loop).toBeDefined();
    const ns = await freshNamespace('renewal-loop');
    const kubeconfig = parse(readFileSync(adminKubeconfigPath(), 'utf8'));
    for (const c of kubeconfig.contexts) c.context.namespace = ns;
    const dir = mkdtempSync(join(tmpdir(), 'koncli-loop-'));
    writeFileSync(join(dir, '.kubeconfig'), stringify(kubeconfig), { mode: 0o600 });
    const bin = join(dir, '.bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'koncli'), `#!/bin/sh\nexec ${KONCLI_COMMAND} "$@"\n`);
    chmodSync(join(bin, 'koncli'), 0o755);
    // The worker the loop guards: a process the test can look for afterwards.
    const script = `sleep 600 & worker_pid=$!\necho "worker $worker_pid"\n${loop!}`;
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: join(dir, '.kubeconfig'), HOSTNAME: 'indexer-1', NO_COLOR: '1' };
    const child = spawn('bash', ['-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const koncliIn = (args: string[]) => runKoncli([...args, '--kubeconfig', join(dir, '.kubeconfig')]);
    await until(
      'the loop holds the lease',
      async () => JSON.parse((await koncliIn(['lease', 'status', 'indexer', '--json'])).stdout || '{}').holder === 'indexer-1',
    );
    await until('a renewal went through', () => /renewed/.test(stdout), 30_000);
    const broken = await koncliIn(['lease', 'release', 'indexer', '-n', ns, '--force', '--if-holder', 'indexer-1', '--holder', 'oncall']);
    expect(broken.code).toBe(0);
    const stuck = setTimeout(() => child.kill('SIGKILL'), 40_000); // a loop that never noticed: fails below with code null
    const code = await exited;
    clearTimeout(stuck);
    expect({ code, stderr }).toMatchObject({ code: 4 });
    const worker = Number(/worker (\d+)/.exec(stdout)?.[1]);
    expect(() => process.kill(worker, 0)).toThrow(); // stopped by the loop's kill -TERM
  }, 120_000);
});
