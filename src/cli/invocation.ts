import { basename } from 'node:path';

/**
 * How the user runs koncli, for commands koncli prints for them to run: `kubectl koncli` when
 * started as the kubectl plugin (kubectl runs `kubectl-koncli` from PATH), else `koncli`.
 */
export function commandPrefix(argv: readonly string[] = process.argv): string {
  return argv.slice(0, 2).some((a) => basename(a ?? '').startsWith('kubectl-koncli')) ? 'kubectl koncli' : 'koncli';
}
