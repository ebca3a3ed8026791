import { kubectlArgv } from '../../../src/cli/argv.js';

const rewrite = (line: string) => kubectlArgv(line.split(' ').filter(Boolean)).join(' ');

describe('kubectlArgv: kubectl global flags before the command', () => {
  test.each([
    ['-n ops lease status', 'lease status -n ops'],
    ['-n ops lease status x --json', 'lease status x -n ops --json'],
    ['--context prod lease acquire x', 'lease acquire x --context prod'],
    ['--kubeconfig /k --context=c -nops --request-timeout 5s lease release x', 'lease release x --kubeconfig /k --context=c -nops --request-timeout 5s'],
    ['--namespace=ops -ojson semaphore status s', 'semaphore status s --namespace=ops -ojson'],
    ['-v -n ops lease status', 'lease status -v -n ops'],
    ['lease status -n ops', 'lease status -n ops'],
  ])('%s → %s', (given, expected) => expect(rewrite(given)).toBe(expected));

  test('a flag repeated after the command wins, as the last one does in kubectl (oclif would refuse two)', () => {
    expect(rewrite('-n a lease status -n b')).toBe('lease status -n b');
    expect(rewrite('--namespace=a lease status -n b')).toBe('lease status -n b');
    expect(rewrite('-n a -n b lease status')).toBe('lease status -n b');
  });

  test('nothing after -- moves or changes (the command of lease run)', () => {
    expect(rewrite('-n ops lease run job -- sh -c -v=9 -n x')).toBe('lease run job -n ops -- sh -c -v=9 -n x');
  });

  test("kubectl's -v=N: from level 6 on it is --verbose, below it nothing", () => {
    expect(rewrite('-v=6 lease status')).toBe('lease status --verbose');
    expect(rewrite('lease status x --v=9')).toBe('lease status x --verbose');
    expect(rewrite('lease status x -v 7')).toBe('lease status x --verbose');
    expect(rewrite('lease status x -v2')).toBe('lease status x');
  });

  test('help, version, unknown flags and a flag missing its value are left for oclif', () => {
    expect(rewrite('--help lease')).toBe('--help lease');
    expect(rewrite('--version')).toBe('--version');
    expect(rewrite('--bogus lease status')).toBe('--bogus lease status');
    expect(rewrite('-n')).toBe('-n');
    expect(rewrite('-n ops')).toBe('-n ops');
  });
});
