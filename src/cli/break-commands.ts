import type { Config } from '@oclif/core';
import { shellQuote } from '../core/status/list.js';
import { commandPrefix } from './invocation.js';
import type { Output } from './output.js';

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
  /** A koncli primitive's `KIND unlock` (mutex, and any kind that has the command); `konductor`: stored as a konductor.io/v1 object. */
  primitive: (kind: string, name: string, namespace: string, holders: string[], konductor = false) => [
    kind,
    'unlock',
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

/**
 * Whether koncli has `KIND unlock` taking `--force --if-holder` (`multiple`: several at once), read
 * from oclif's command registry: a primitive kind added later gets its break command unchanged.
 */
export type UnlockCommandOf = (kind: string) => { multiple: boolean } | undefined;

export const unlockCommandOf =
  (config: Pick<Config, 'findCommand'>): UnlockCommandOf =>
  (kind) => {
    const flags = config.findCommand(`${kind}:unlock`)?.flags;
    const ifHolder = flags?.['if-holder'] as { multiple?: boolean } | undefined;
    return flags?.force && ifHolder ? { multiple: !!ifHolder.multiple } : undefined;
  };

/** A busy message followed by what to do: the command that breaks it safely. */
export const withBreak = (message: string, command: string | undefined) => (command ? `${message}; to break it safely: ${command}` : message);

/** At -v, after a busy error: the rule by which its claims are judged to last (core/expiry.ts's ruleOf). */
export const sayRule = (output: Output, details: Record<string, unknown> | undefined) => {
  if (typeof details?.rule === 'string') output.detail(`judged held by: ${details.rule}`);
};

/**
 * A busy outcome that is a result, not a failure (a run whose command never started): one line
 * saying what is not done, who holds and until when, and the break command; the rule at -v.
 * Returns what the result document adds.
 */
export function sayBusy(output: Output, notDone: string, message: string, details: Record<string, unknown>, breakCommand: string | undefined) {
  output.error(`${notDone}: ${withBreak(message, breakCommand)}`);
  sayRule(output, details);
  return { heldBy: details.holder ?? details.holders ?? null, breakCommand: breakCommand ?? null, rule: details.rule ?? null };
}

/** The whole command line, quoted for a POSIX shell, as the user runs koncli. */
export const commandLine = (args: string[]) => [commandPrefix(), ...args.map(shellQuote)].join(' ');
