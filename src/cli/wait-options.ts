import { usageError } from '../core/errors.js';
import { parseDuration } from './duration.js';

/** --wait / --timeout as the peers use them: no flags tries once; --wait alone waits for ever. */
export function waitOptions(flags: { wait?: boolean; timeout?: string }): { wait: boolean; timeoutMs?: number } {
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout, 'timeout');
  if (timeoutMs === 0) return { wait: false };
  if (timeoutMs === undefined) return { wait: !!flags.wait };
  if (!Number.isSafeInteger(timeoutMs)) throw usageError(`--timeout ${flags.timeout} is too long`);
  return { wait: true, timeoutMs };
}
