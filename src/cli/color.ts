import { Chalk, type ChalkInstance } from 'chalk';

/** Colour only on a terminal, never with NO_COLOR (https://no-color.org), forced with FORCE_COLOR. */
export function colorFor(stream: Pick<NodeJS.WriteStream, 'isTTY'> & { getColorDepth?(): number }): ChalkInstance {
  const env = process.env;
  let level: 0 | 1 | 2 | 3 = 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') level = 0;
  else if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false')
    level = 0; // chalk's and Node's "no colour"
  else if (env.FORCE_COLOR !== undefined) level = 1;
  else if (stream.isTTY && env.TERM !== 'dumb') level = (stream.getColorDepth?.() ?? 1) >= 24 ? 3 : (stream.getColorDepth?.() ?? 1) >= 8 ? 2 : 1;
  return new Chalk({ level });
}
