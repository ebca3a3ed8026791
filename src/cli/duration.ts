import { MAX_TIMER_MS } from '../core/timer.js';
import { FLAG_UNITS, sumDurationParts } from '../core/duration.js';
import { usageError } from '../core/errors.js';

/**
 * Parses a duration like Go and kubectl do ("90s", "1h30m", "500ms"), plus "0" and plain seconds
 * ("30"). Returns milliseconds. Negative, empty, or unknown units are usage errors.
 */
export function parseDuration(input: string, flag: string): number {
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const hint = `use a duration such as 30s, 5m or 1h30m`;
  if (text.startsWith('-')) throw usageError(`--${flag} ${JSON.stringify(input)} is negative; ${hint}`);
  const total = sumDurationParts(text, FLAG_UNITS);
  if (total === undefined) throw usageError(`--${flag} ${JSON.stringify(input)} is not a duration; ${hint}`);
  return Math.round(total);
}

/** A duration of at most about 24 days (--request-timeout: a longer one is surely a mistake). */
export function parseTimerDuration(input: string, flag: string): number {
  const ms = parseDuration(input, flag);
  if (ms > MAX_TIMER_MS) throw usageError(`--${flag} ${JSON.stringify(input)} is too long; the maximum is ${formatDuration(MAX_TIMER_MS)}`);
  return ms;
}

export const MAX_TTL_SECONDS = 2_147_483_647; // leaseDurationSeconds is an int32

/**
 * A delay of any length up to the longest TTL (2^31−1 s, about 68 years) — --kill-after: timers are
 * armed through core/timer.ts, so months and years work. Returns milliseconds.
 */
export function parseDelay(input: string, flag: string): number {
  const ms = parseDuration(input, flag);
  if (ms > MAX_TTL_SECONDS * 1000)
    throw usageError(`--${flag} ${JSON.stringify(input)} is too long; the maximum is ${MAX_TTL_SECONDS}s (about 68 years, the longest TTL)`);
  return ms;
}

/** A TTL in whole seconds, at least one. */
export function parseTtlSeconds(input: string, flag = 'ttl'): number {
  const ms = parseDuration(input, flag);
  if (ms < 1000) throw usageError(`--${flag} ${JSON.stringify(input)} is shorter than 1s; use at least 1s`);
  if (ms % 1000 !== 0) throw usageError(`--${flag} ${JSON.stringify(input)} is not a whole number of seconds; use e.g. ${Math.ceil(ms / 1000)}s`);
  const seconds = ms / 1000;
  if (seconds > MAX_TTL_SECONDS) throw usageError(`--${flag} ${JSON.stringify(input)} is too long; the maximum is ${MAX_TTL_SECONDS}s (about 68 years)`);
  return seconds;
}

/** "3m12s" style, for people. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const negative = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return (negative ? '-' : '') + parts.slice(0, 2).join('');
}
