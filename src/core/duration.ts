/** Milliseconds per unit: Go's time.ParseDuration units, plus `d`, which only koncli's flags accept. */
const UNIT_MS = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export type DurationUnit = keyof typeof UNIT_MS;

/** The units of Go's time.ParseDuration (and so of Kubernetes duration fields). */
export const GO_UNITS: readonly DurationUnit[] = ['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'];
/** The units koncli's duration flags accept. */
export const FLAG_UNITS: readonly DurationUnit[] = ['ms', 's', 'm', 'h', 'd'];

const patterns = new Map<string, RegExp>();

function partPattern(units: readonly DurationUnit[]): RegExp {
  const key = units.join(',');
  let re = patterns.get(key);
  if (!re) {
    // Longest unit first, so "5ms" is never read as 5 minutes followed by "s".
    const alternation = [...units].sort((a, b) => b.length - a.length).join('|');
    re = new RegExp(`(\\d+(?:\\.\\d+)?)(${alternation})`, 'y');
    patterns.set(key, re);
  }
  return re;
}

/**
 * The total, in milliseconds, of a text made only of `<number><unit>` parts ("1h30m", "1.5h",
 * "500ms"); undefined for anything else, including "", signs and bare numbers.
 */
export function sumDurationParts(text: string, units: readonly DurationUnit[]): number | undefined {
  const re = partPattern(units);
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2] as DurationUnit];
    at = re.lastIndex;
  }
  return at === 0 ? undefined : total;
}

/**
 * A non-negative Go duration ("15m", "1h30m", "2h0m0s", "500ms") in milliseconds, or undefined.
 * Deliberately the same language as GO_DURATION_PATTERN (no sign, no bare "0").
 */
export const parseGoDuration = (text: string): number | undefined => sumDurationParts(text, GO_UNITS);

/** The JSON-schema pattern of what parseGoDuration accepts (used by the konductor.io CRD). */
export const GO_DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+$';

/** Whole seconds as a short Go duration: 7200 → "2h", 5400 → "1h30m", 90 → "1m30s", 0 → "0s". */
export function formatGoDuration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  if (s === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out;
}
