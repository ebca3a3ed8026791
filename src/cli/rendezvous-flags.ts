import { Flags } from '@oclif/core';
import { usageError } from '../core/errors.js';
import { parseDuration } from './duration.js';

/** konductor's SDK (and `kubectl wait`) give up after 30s when no --timeout is given. */
export const RENDEZVOUS_DEFAULT_TIMEOUT = '30s';

/** --timeout of `barrier wait`, `waitgroup wait`, `gate wait`: the verb is a wait, so it always waits (0: look once). */
export const rendezvousTimeoutFlag = (what: string) => ({
  timeout: Flags.string({
    description: `give up waiting for ${what} after this long (exit 3); 0 looks once [default: ${RENDEZVOUS_DEFAULT_TIMEOUT}, konductor's and kubectl wait's]`,
  }),
});

/** The wait options of those verbs: 0 looks once (kubectl wait --timeout=0), else waits by watching until the timeout. */
export function rendezvousWait(timeout: string | undefined): { wait: boolean; timeoutMs?: number } {
  const timeoutMs = parseDuration(timeout ?? RENDEZVOUS_DEFAULT_TIMEOUT, 'timeout');
  if (timeoutMs === 0) return { wait: false };
  if (!Number.isSafeInteger(timeoutMs)) throw usageError(`--timeout ${timeout} is too long`);
  return { wait: true, timeoutMs };
}

/** A count flag (--expected, --quorum, --delta) as konductor's int32, refused in one line when out of range. */
export function countFlag(value: number, flag: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > 2 ** 31 - 1)
    throw usageError(`--${flag} ${value} is out of range; use a whole number from ${min} to 2147483647`);
  return value;
}
