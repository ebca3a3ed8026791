// kube/kubeconfig.ts resolves cluster access as kubectl does. client-node's own loadFromDefault()
// lets the *last* KUBECONFIG file's current-context win and throws on duplicate names; kubectl keeps
// the first of each. Real files, client-node's real KubeConfig; no request is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { checkAliasExpansion, resolveAccess } from '../../../src/kube/kubeconfig.js';

let dir: string;
const saved = process.env.KUBECONFIG;

interface Entry {
  clusters?: [string, string][];
  users?: string[];
  contexts?: { name: string; cluster: string; user: string; namespace?: string }[];
  current?: string;
}

function kubeconfigFile(name: string, e: Entry): string {
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: "${e.current ?? ''}"`,
    'clusters:',
    ...(e.clusters ?? []).map(([n, server]) => `- name: ${n}\n  cluster:\n    server: ${server}`),
    'users:',
    ...(e.users ?? []).map((n) => `- name: ${n}\n  user:\n    token: token-of-${n}`),
    'contexts:',
    ...(e.contexts ?? []).map(
      (c) => `- name: ${c.name}\n  context:\n    cluster: ${c.cluster}\n    user: ${c.user}${c.namespace ? `\n    namespace: ${c.namespace}` : ''}`,
    ),
  ].join('\n');
  const path = join(dir, name);
  writeFileSync(path, yaml + '\n');
  return path;
}

const files = () => ({
  a: kubeconfigFile('a.yaml', {
    clusters: [['shared-cluster', 'https://a.example:6443']],
    users: ['a-user'],
    contexts: [
      { name: 'ctx-a', cluster: 'shared-cluster', user: 'a-user', namespace: 'team-a' },
      { name: 'shared', cluster: 'shared-cluster', user: 'a-user', namespace: 'from-a' },
    ],
    current: 'ctx-a',
  }),
  b: kubeconfigFile('b.yaml', {
    clusters: [
      ['shared-cluster', 'https://b-override.example:6443'],
      ['b-cluster', 'https://b.example:6443'],
    ],
    users: ['b-user'],
    contexts: [
      { name: 'ctx-b', cluster: 'b-cluster', user: 'b-user' },
      { name: 'shared', cluster: 'b-cluster', user: 'b-user', namespace: 'from-b' },
    ],
    current: 'ctx-b',
  }),
  noCurrent: kubeconfigFile('no-current.yaml', {
    clusters: [['c-cluster', 'https://c.example:6443']],
    users: ['c-user'],
    contexts: [{ name: 'ctx-c', cluster: 'c-cluster', user: 'c-user' }],
  }),
});

const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

const withKubeconfig = (...paths: string[]) => (process.env.KUBECONFIG = paths.join(delimiter));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'koncli-kubeconfig-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});

describe('resolveAccess with several KUBECONFIG files (kubectl: the first wins)', () => {
  test('the first file’s current-context wins, and a duplicate name keeps its first definition', () => {
    const { a, b } = files();
    withKubeconfig(a, b);
    const { kc, namespace, source } = resolveAccess({});
    expect(kc.getCurrentContext()).toBe('ctx-a');
    expect(kc.getCurrentCluster()?.server).toBe('https://a.example:6443'); // not b's shared-cluster
    expect(namespace).toBe('team-a');
    expect(source).toBe(`KUBECONFIG=${a}${delimiter}${b}`);
    // Names only the later file defines are there too.
    expect(
      kc
        .getContexts()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['ctx-a', 'ctx-b', 'shared']);
    expect(kc.getCluster('b-cluster')?.server).toBe('https://b.example:6443');
  });

  test('in the other order the other file wins, for the current context and for a shared context name', () => {
    const { a, b } = files();
    withKubeconfig(b, a);
    expect(resolveAccess({}).kc.getCurrentContext()).toBe('ctx-b');
    const shared = resolveAccess({ context: 'shared' });
    expect(shared.namespace).toBe('from-b');
    expect(shared.kc.getCurrentCluster()?.server).toBe('https://b.example:6443');
  });

  test('the current context comes from the first file that sets one', () => {
    const { b, noCurrent } = files();
    withKubeconfig(noCurrent, b);
    expect(resolveAccess({}).kc.getCurrentContext()).toBe('ctx-b');
  });

  test('files that do not exist are skipped; none existing is a clear error', () => {
    const { a } = files();
    withKubeconfig(join(dir, 'missing.yaml'), a);
    expect(resolveAccess({}).source).toBe(`KUBECONFIG=${a}`);
    withKubeconfig(join(dir, 'missing.yaml'));
    expect(() => resolveAccess({})).toThrow(/none of the KUBECONFIG files exist/);
  });
});

describe('resolveAccess: --kubeconfig, --context and the namespace', () => {
  test('--kubeconfig wins over KUBECONFIG', () => {
    const { a, b } = files();
    withKubeconfig(a);
    const { kc, source } = resolveAccess({ kubeconfig: b });
    expect(kc.getCurrentContext()).toBe('ctx-b');
    expect(source).toBe(b);
  });

  test('--context selects another context; an unknown one names the known ones', () => {
    const { a, b } = files();
    withKubeconfig(a, b);
    const { kc, namespace } = resolveAccess({ context: 'ctx-b' });
    expect(kc.getCurrentContext()).toBe('ctx-b');
    expect(namespace).toBe('default'); // ctx-b sets none
    expect(() => resolveAccess({ context: 'nope' })).toThrow(/context "nope" is not in KUBECONFIG=.*; known contexts: ctx-a, shared, ctx-b/);
    expect(thrownBy(() => resolveAccess({ context: 'nope' }))).toMatchObject({ kind: 'unreachable' }); // exit 8, like other kubeconfig problems
  });

  test('-n wins over the context’s namespace', () => {
    const { a } = files();
    withKubeconfig(a);
    expect(resolveAccess({ namespace: 'other' }).namespace).toBe('other');
  });

  test('a context that names a cluster or user the files do not define is refused', () => {
    const broken = kubeconfigFile('broken.yaml', {
      clusters: [['c', 'https://c.example']],
      users: ['u'],
      contexts: [{ name: 'x', cluster: 'gone', user: 'u' }],
      current: 'x',
    });
    withKubeconfig(broken);
    expect(() => resolveAccess({})).toThrow(/context "x" names cluster "gone", which .* does not define/);
  });
});

describe('kubeconfig YAML (js-yaml, as client-node reads it)', () => {
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const base = ['apiVersion: v1', 'kind: Config', 'current-context: c', 'users:', '- name: u', '  user:', '    token: t'];

  it('takes merge keys (<<), as kubectl does', () => {
    const path = write(
      'merge.yaml',
      [
        ...base,
        'x-defaults: &defaults',
        '  server: https://merged.example:6443',
        '  insecure-skip-tls-verify: true',
        'clusters:',
        '- name: k',
        '  cluster:',
        '    <<: *defaults',
        'contexts:',
        '- name: c',
        '  context: {cluster: k, user: u, namespace: merged-ns}',
      ].join('\n'),
    );
    const access = resolveAccess({ kubeconfig: path });
    expect(access.kc.getCurrentCluster()).toMatchObject({ server: 'https://merged.example:6443', skipTLSVerify: true });
    expect(access.namespace).toBe('merged-ns');
  });

  it('a key given twice takes its last value, as kubectl reads it', () => {
    const path = write(
      'duplicate.yaml',
      [
        ...base.filter((l) => !l.startsWith('current-context')),
        'current-context: first',
        'clusters:',
        '- name: k',
        '  cluster: {server: https://first.example:6443, server: https://last.example:6443}',
        'contexts:',
        '- name: c',
        '  context: {cluster: k, user: u}',
        'current-context: c',
      ].join('\n'),
    );
    const access = resolveAccess({ kubeconfig: path });
    expect(access.kc.getCurrentContext()).toBe('c');
    expect(access.kc.getCurrentCluster()?.server).toBe('https://last.example:6443');
  });

  it('refuses a billion-laughs file in one line instead of expanding it', () => {
    const levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i <= 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const path = write('bomb.yaml', [...base, ...levels, 'clusters: *a9'].join('\n'));
    expect(() => resolveAccess({ kubeconfig: path })).toThrow(
      /bomb\.yaml cannot be read \(its aliases expand it to over \d+ values and characters: excessive aliasing\)/,
    );
  });

  it('counts a large aliased string once per alias, and lets ordinary sharing through', () => {
    const cannot = (why: string) => new Error(why);
    const ca = 'x'.repeat(10_000);
    expect(() => checkAliasExpansion({ a: ca, b: ca, c: { d: ca } }, 10_100, cannot)).not.toThrow();
    expect(() => checkAliasExpansion(Array(200).fill(ca), 10_100, cannot)).toThrow(/excessive aliasing/);
  });
});
