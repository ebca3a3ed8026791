import { Flags } from '@oclif/core';
import { parseSignal } from '../supervise/child.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../core/timing.js';
import { parseDelay, parseTtlSeconds } from './duration.js';
import { runHolderFrom } from './holder.js';
import { waitOptions } from './wait-options.js';
import { ExitCode } from './exit-codes.js';
import { usageError } from '../core/errors.js';

/** The flags of every `run` verb that supervises a command (`lease run`'s; docs/lease-run.md). */
export const supervisionFlags = (what: string) => ({
  'conflict-exit-code': Flags.integer({ description: `exit code when the ${what} cannot be had in time`, default: ExitCode.BUSY, min: 0, max: 255 }),
  signal: Flags.string({ description: `signal sent to the command when the ${what} is lost`, default: 'TERM' }),
  'kill-after': Flags.string({ description: 'send SIGKILL this long after --signal [default: a quarter of the TTL]' }),
  orphans: Flags.option({
    description: `processes the command started that still run when it exits: stop (--signal, then SIGKILL after --kill-after) or wait (keep the ${what}, renewed, until they exit); it is released only when none is left`,
    options: ['stop', 'wait'] as const,
    default: 'stop' as const,
  })(),
});

/** --signal and --kill-after, parsed (exit 2 on a bad value). */
export function parseSupervision(flags: { signal: string; 'kill-after'?: string }): { signal: NodeJS.Signals; killAfterMs?: number } {
  const killAfterMs = flags['kill-after'] === undefined ? undefined : parseDelay(flags['kill-after'], 'kill-after');
  try {
    return { signal: parseSignal(flags.signal), killAfterMs };
  } catch {
    throw usageError(`--signal ${flags.signal} is not a signal name; use e.g. TERM, INT or HUP`);
  }
}

/**
 * The command after NAME. oclif orders its non-strict argv by each token's *first* position in the
 * raw argv, so a command argument that repeats NAME, a flag value or an earlier argument would move;
 * after `--` the raw argv is the command exactly as given.
 */
export function commandOf(rawArgv: string[], name: string, parsedArgv: unknown[], usage: string): string[] {
  const dash = rawArgv.indexOf('--');
  const command = dash >= 0 && rawArgv.slice(0, dash).includes(name) ? rawArgv.slice(dash + 1) : (parsedArgv as string[]).slice(1);
  if (command.length === 0) throw usageError(`no command given: ${usage}`);
  return command;
}

/** What every claim kind's `run` parses alike: the holder (unique per run by default), the TTL, and the supervision flags. */
export interface RunSettings {
  holder: string;
  ttlSeconds: number;
  supervision: {
    command: string[];
    wait: { wait: boolean; timeoutMs?: number };
    signal: NodeJS.Signals;
    killAfterMs?: number;
    orphans: 'stop' | 'wait';
    conflictExitCode: number;
  };
}

/** --holder, --ttl (default RUN_DEFAULT_TTL_SECONDS), --wait/--timeout, --signal, --kill-after, --orphans, --conflict-exit-code; exit 2 on a bad value. */
export function runSettings(
  flags: {
    holder?: string;
    ttl?: string;
    wait?: boolean;
    timeout?: string;
    signal: string;
    'kill-after'?: string;
    orphans: 'stop' | 'wait';
    'conflict-exit-code': number;
  },
  command: string[],
): RunSettings {
  return {
    holder: runHolderFrom(flags.holder),
    ttlSeconds: flags.ttl === undefined ? RUN_DEFAULT_TTL_SECONDS : parseTtlSeconds(flags.ttl),
    supervision: { ...parseSupervision(flags), orphans: flags.orphans, wait: waitOptions(flags), command, conflictExitCode: flags['conflict-exit-code'] },
  };
}
