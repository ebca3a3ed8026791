// cli/complete-words.ts: what the last word typed completes to (the names are read from the cluster
// by kube/names.ts; test/integration/completion-names.test.ts runs both in bash and through kubectl).
import { completionRequest, type CommandShape } from '../../../src/cli/complete-words.js';

const cluster = { '--namespace': { value: true }, '-n': { value: true }, '--context': { value: true }, '--json': { value: false } };
const commands: CommandShape[] = [
  { id: 'lease:status', flags: { ...cluster, '--kind': { value: true, options: ['native', 'konductor'] } } },
  { id: 'lease:release', flags: { ...cluster, '--force': { value: false } } },
  { id: 'semaphore:unlock', flags: cluster },
  { id: 'kubelock:annotate', flags: { ...cluster, '--lock': { value: true } } },
  { id: 'status', flags: cluster },
];

describe('completionRequest', () => {
  test('names of the command NAME, in the namespace and with the kind typed', () => {
    expect(completionRequest(['lease', 'status', '-n', 'ops', '--kind', 'konductor', 'ni'], commands)).toMatchObject({
      names: 'leases',
      namespace: 'ops',
      leaseKind: 'konductor',
      current: 'ni',
    });
    expect(completionRequest(['semaphore', 'unlock', ''], commands)).toMatchObject({ names: 'semaphores' });
    expect(completionRequest(['lease', 'status', 'already-named', ''], commands)).toMatchObject({ words: [] });
  });

  test('flag values: namespaces, contexts, lock names, fixed options', () => {
    expect(completionRequest(['status', '-n', ''], commands)).toMatchObject({ names: 'namespaces' });
    expect(completionRequest(['--context', ''], commands)).toMatchObject({ names: 'contexts' });
    expect(completionRequest(['kubelock', 'annotate', 'cm/x', '--lock', ''], commands)).toMatchObject({ names: 'locks', target: 'cm/x' });
    expect(completionRequest(['lease', 'status', '--kind', ''], commands)).toMatchObject({ words: ['native', 'konductor'] });
  });

  test('topics, commands and flags', () => {
    expect(completionRequest([''], commands).words).toEqual(['kubelock', 'lease', 'semaphore', 'status']);
    expect(completionRequest(['lease', ''], commands).words).toEqual(['release', 'status']);
    expect(completionRequest(['lease', 'release', '--f'], commands).words).toContain('--force');
  });
});
