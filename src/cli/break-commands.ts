import { shellQuote } from '../core/status/list.js';
import { commandPrefix } from './invocation.js';

/**
 * The commands that break a claim safely (`--force --if-holder X`: only while X still holds it),
 * as argv words without the program name: printed by `koncli status`, `lease status NAME` and every
 * busy error (issue 23: say what to do, first). Namespaces are always spelt out.
 */
const ifHolders = (holders: string[]) => holders.flatMap((h) => ['--if-holder', h]);
const nsArgs = (namespace: string | null) => (namespace ? ['-n', namespace] : []);

export const breakArgs = {
  lease: (name: string, namespace: string, konductor: boolean, holders: string[]) => [
    'lease',
    'release',
    name,
    ...nsArgs(namespace),
    ...(konductor ? ['--kind', 'konductor'] : []),
    '--force',
    ...ifHolders(holders),
  ],
  semaphore: (name: string, namespace: string, holders: string[]) => ['semaphore', 'unlock', name, ...nsArgs(namespace), '--force', ...ifHolders(holders)],
  kubelock: (object: string, lock: string, namespace: string | null, holders: string[]) => [
    'kubelock',
    'annotate',
    object,
    '--lock',
    lock,
    ...nsArgs(namespace),
    '--release',
    '--force',
    ...ifHolders(holders),
  ],
};

/** The whole command line, quoted for a POSIX shell, as the user runs koncli. */
export const commandLine = (args: string[]) => [commandPrefix(), ...args.map(shellQuote)].join(' ');
