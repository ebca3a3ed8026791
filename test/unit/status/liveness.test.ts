// core/status/liveness.ts: which Pod or Node a holder identity names, and the verdict from what the
// cluster says of it (lookups given as plain functions: the real ones are in test/integration/status.test.ts).
import { candidateNames, judgeHolder, type LivenessLookup, type NodeFact, type PodFact } from '../../../src/core/status/liveness.js';
import { KoncliError } from '../../../src/core/errors.js';

const UUID = '3f1c9a2e-8b7d-4c6e-9f0a-1b2c3d4e5f60';

/** `pods` by "namespace/name"; "*" forbids the cluster-wide list. */
function lookup(pods: Record<string, PodFact | 'forbidden'>, nodes: Record<string, NodeFact | 'forbidden'> = {}): LivenessLookup & { asked: string[] } {
  const asked: string[] = [];
  const answer = <T>(v: T | 'forbidden' | undefined): Promise<T | null> => {
    if (v === 'forbidden') return Promise.reject(new KoncliError('forbidden', 'cannot get'));
    return Promise.resolve(v ?? null);
  };
  return {
    asked,
    pod: (ns, name) => (asked.push(`pod ${ns}/${name}`), answer(pods[`${ns}/${name}`])),
    podsNamed: (name) => {
      asked.push(`pods */${name}`);
      if (pods['*'] === 'forbidden') return Promise.reject(new KoncliError('forbidden', 'cannot list'));
      const found = Object.entries(pods).filter(([k]) => k.endsWith(`/${name}`));
      return Promise.resolve(found.map(([k, p]) => ({ ...(p as PodFact), namespace: k.split('/')[0] })));
    },
    node: (name) => (asked.push(`node ${name}`), answer(nodes[name])),
  };
}

const running = (name: string): PodFact => ({ name, phase: 'Running', terminating: false });

describe('candidateNames', () => {
  test.each([
    ['web-7d9f8b6c5d-x2k4q', ['web-7d9f8b6c5d-x2k4q']],
    [`my-operator-6c8b9-abcde_${UUID}`, ['my-operator-6c8b9-abcde']],
    ['runner-x2k4q-1a2b3c4d', ['runner-x2k4q-1a2b3c4d', 'runner-x2k4q']],
    [`node-1_${UUID}`, ['node-1']],
    ['alice@laptop', []],
    ['Upper-Case', []],
  ])('%s', (identity, expected) => expect(candidateNames(identity)).toEqual(expected));
});

describe('judgeHolder', () => {
  test("a client-go leader's <pod>_<uuid> is its running Pod: alive, never 'not found'", async () => {
    const l = lookup({ 'ops/my-operator-6c8b9-abcde': running('my-operator-6c8b9-abcde') });
    expect(await judgeHolder(`my-operator-6c8b9-abcde_${UUID}`, 'ops', l)).toEqual({ alive: true, reason: 'Pod my-operator-6c8b9-abcde is Running' });
  });

  test('a terminating Pod is still alive; a finished one is dead', async () => {
    const l = lookup({
      'ops/a-x2k4q': { name: 'a-x2k4q', phase: 'Running', terminating: true },
      'ops/b-x2k4q': { name: 'b-x2k4q', phase: 'Succeeded', terminating: false },
    });
    expect((await judgeHolder('a-x2k4q', 'ops', l)).alive).toBe(true);
    expect(await judgeHolder('b-x2k4q', 'ops', l)).toEqual({ alive: false, reason: 'Pod b-x2k4q has succeeded' });
  });

  test("koncli lease run's <pod>-<8 hex> is its Pod", async () => {
    const l = lookup({ 'ops/batch-x2k4q': running('batch-x2k4q') });
    expect((await judgeHolder('batch-x2k4q-0a1b2c3d', 'ops', l)).alive).toBe(true);
  });

  test('a hostNetwork holder is its Node: Ready alive, not Ready dead', async () => {
    const l = lookup({}, { 'node-1': { name: 'node-1', ready: 'True' }, 'node-2': { name: 'node-2', ready: 'Unknown' } });
    expect(await judgeHolder(`node-1_${UUID}`, 'kube-system', l)).toMatchObject({ alive: true });
    expect(await judgeHolder(`node-2_${UUID}`, 'kube-system', l)).toEqual({ alive: false, reason: 'Node node-2 is not Ready (Ready=Unknown)' });
  });

  test('a controller-made Pod name that is not there is gone; any other name is unknown', async () => {
    const l = lookup({});
    expect(await judgeHolder('web-7d9f8b6c5d-x2k4q', 'ops', l)).toMatchObject({
      alive: false,
      reason: expect.stringMatching(/^Pod web-7d9f8b6c5d-x2k4q is gone/),
    });
    expect(await judgeHolder('db-0', 'ops', l)).toMatchObject({
      alive: null,
      reason: expect.stringMatching(/^unknown: no Pod in any namespace and no Node is named db-0/),
    });
    expect(await judgeHolder('alice@laptop', 'ops', l)).toMatchObject({ alive: null, reason: expect.stringMatching(/^unknown: /) });
  });

  test('RBAC forbidding the Pod look-up makes it unknown, never dead', async () => {
    const l = lookup({ 'ops/web-7d9f8b6c5d-x2k4q': 'forbidden', '*': 'forbidden' }, { 'web-7d9f8b6c5d-x2k4q': 'forbidden' });
    expect(await judgeHolder('web-7d9f8b6c5d-x2k4q', 'ops', l)).toEqual({
      alive: null,
      reason: 'unknown: may not get pods in namespace ops (RBAC); may not get pods in all namespaces (RBAC); may not get nodes (RBAC)',
    });
  });

  test('a holder whose Pod runs in another namespace than the lock is alive, found by a cluster-wide look-up', async () => {
    const l = lookup({ 'operators/my-operator-6c8b9-abcde': running('my-operator-6c8b9-abcde') });
    expect(await judgeHolder(`my-operator-6c8b9-abcde_${UUID}`, 'kube-system', l)).toEqual({
      alive: true,
      reason: 'Pod my-operator-6c8b9-abcde in namespace operators is Running',
    });
    expect(l.asked).toEqual(['pod kube-system/my-operator-6c8b9-abcde', 'pods */my-operator-6c8b9-abcde']);
  });

  test('of Pods of one name in several namespaces, a running one makes the holder alive', async () => {
    const l = lookup({ 'a/batch-x2k4q': { name: 'batch-x2k4q', phase: 'Failed', terminating: false }, 'b/batch-x2k4q': running('batch-x2k4q') });
    expect(await judgeHolder('batch-x2k4q', 'ops', l)).toMatchObject({ alive: true, reason: 'Pod batch-x2k4q in namespace b is Running' });
  });

  test('a generated name is gone only when no namespace has it: without the right to list all Pods it is unknown', async () => {
    const l = lookup({ '*': 'forbidden' });
    expect(await judgeHolder('web-7d9f8b6c5d-x2k4q', 'ops', l)).toEqual({ alive: null, reason: 'unknown: may not get pods in all namespaces (RBAC)' });
  });

  test('a lock on a cluster-scoped object looks its holder up in every namespace', async () => {
    const l = lookup({});
    expect((await judgeHolder('web-7d9f8b6c5d-x2k4q', undefined, l)).alive).toBe(false);
    expect(l.asked).toEqual(['pods */web-7d9f8b6c5d-x2k4q', 'node web-7d9f8b6c5d-x2k4q']);
  });
});
