// cli/unknown-command.ts: which argv names no command or topic, and the nearest command to suggest
// (test/integration/cli-habits.test.ts runs it through the CLI, with and without a terminal).
import { unknownCommand } from '../../../src/cli/unknown-command.js';

describe('unknownCommand', () => {
  const ids = new Set(['lease:status', 'lease:release', 'semaphore:unlock', 'status', 'status:all', 'status:lease', 'mutex:list']);
  const argless = new Set(['status', 'status:all', 'mutex:list']);
  test.each([
    [['lease', 'relaese', 'x'], { typed: 'lease relaese', suggestion: 'lease release' }],
    [['lease', 'aquire', 'x'], { typed: 'lease aquire' }], // nothing near enough: no suggestion
    [['statsu'], { typed: 'statsu', suggestion: 'status' }],
    [['frobnicate', '--json'], { typed: 'frobnicate' }],
    [['mutex', 'list', 'extra', '-A'], { typed: 'mutex list', unexpected: 'extra' }], // oclif would say "command mutex:list:extra not found"
    [['status', 'frobnicate'], { typed: 'status frobnicate' }], // `status` is also a topic (its alias status:all): oclif would say "command status:frobnicate not found"
  ])('%j', (argv, expected) => expect(unknownCommand(argv, ids, argless)).toEqual(expected));
  test.each([
    [[]],
    [['lease']],
    [['lease', 'status', 'x']],
    [['status']],
    [['status', '-A']],
    [['status', 'all']],
    [['status', 'lease', 'x']],
    [['--help']],
    [['help', 'lease']],
  ])('%j is not unknown', (argv) => expect(unknownCommand(argv, ids)).toBeUndefined());
});
