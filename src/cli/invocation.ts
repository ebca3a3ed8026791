import { basename } from 'node:path';

/**
 * How the user runs koncli, for commands koncli prints for them to run: `kubectl koncli` when
 * started as the kubectl plugin (kubectl runs `kubectl-koncli` from PATH), else `koncli`.
 */
export function commandPrefix(argv: readonly string[] = [process.argv0, ...process.argv.slice(0, 2)]): string {
  // argv0 is the name the program was started by (a single executable's argv[0] is resolved); argv[1] the npm build's script.
  return argv.some((a) => basename(a ?? '').startsWith('kubectl-koncli')) ? 'kubectl koncli' : 'koncli';
}

/**
 * Started as `kubectl_complete-koncli`, the program kubectl runs to complete `kubectl koncli …`
 * (kubectl ≥ 1.26): its arguments are the words typed, answered by the hidden `__complete` command.
 */
export const completionArgs = (args: string[], argv: readonly string[] = [process.argv0, ...process.argv.slice(0, 2)]): string[] =>
  argv.some((a) => basename(a ?? '').startsWith('kubectl_complete-koncli')) ? ['__complete', ...args] : args;
