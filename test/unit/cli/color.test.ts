// cli/color.ts: colour on a terminal only, NO_COLOR always wins, FORCE_COLOR as chalk and Node read it.
import { colorFor } from '../../../src/cli/color.js';

const terminal = { isTTY: true, getColorDepth: () => 8 } as unknown as NodeJS.WriteStream;
const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;

function levelWith(env: Record<string, string | undefined>, stream: NodeJS.WriteStream): number {
  const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR, TERM: process.env.TERM };
  Object.assign(process.env, { TERM: 'xterm-256color' });
  for (const [k, v] of Object.entries({ NO_COLOR: undefined, FORCE_COLOR: undefined, ...env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return colorFor(stream).level;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('a terminal gets colour, a pipe none', () => {
  expect(levelWith({}, terminal)).toBe(2);
  expect(levelWith({}, pipe)).toBe(0);
});

test('NO_COLOR wins over a terminal and over FORCE_COLOR', () => {
  expect(levelWith({ NO_COLOR: '1' }, terminal)).toBe(0);
  expect(levelWith({ NO_COLOR: '1', FORCE_COLOR: '1' }, pipe)).toBe(0);
});

test('FORCE_COLOR=0 or false turns colour off on a terminal; any other value forces it on a pipe', () => {
  expect(levelWith({ FORCE_COLOR: '0' }, terminal)).toBe(0);
  expect(levelWith({ FORCE_COLOR: 'false' }, terminal)).toBe(0);
  expect(levelWith({ FORCE_COLOR: '1' }, pipe)).toBe(1);
  expect(levelWith({ FORCE_COLOR: '' }, pipe)).toBe(1);
});
