// cli/backlog.ts: what waits for a slow stderr reader stays bounded; the oldest whole writes go
// first, their lines are counted and reported once, before the next write that goes out.
import { Backlog } from '../../../src/cli/backlog.js';

const notice = (n: number) => `[${n} dropped]\n`;
/** Takes everything the backlog offers, as a reader that reads all. */
function drain(b: Backlog): string {
  let out = '';
  for (let next = b.next(); next; next = b.next()) {
    out += next.toString();
    b.consumed(next.length);
  }
  return out;
}

test('under the bound nothing is dropped and order is kept', () => {
  const b = new Backlog(100, notice);
  b.push(Buffer.from('one\n'));
  b.push(Buffer.from('two\n'));
  expect(b.bytes).toBe(8);
  expect(drain(b)).toBe('one\ntwo\n');
  expect(b.empty).toBe(true);
});

test('over the bound the oldest writes go, their lines are counted, and the count is written before what is left', () => {
  const b = new Backlog(10, notice);
  b.push(Buffer.from('aaaa\n')); // 5
  b.push(Buffer.from('bb\ncc\n')); // 6: over, 'aaaa' goes (1 line)
  expect(b.dropped).toBe(1);
  b.push(Buffer.from('dddd\n')); // 11: over, 'bb cc' goes (2 lines)
  expect(b.dropped).toBe(3);
  expect(b.bytes).toBe(5);
  expect(drain(b)).toBe('[3 dropped]\ndddd\n');
  expect(b.dropped).toBe(0);
  b.push(Buffer.from('next\n'));
  expect(drain(b)).toBe('next\n'); // reported once
});

test('a partly written write is finished, never dropped, and the count waits until it is', () => {
  const b = new Backlog(8, notice);
  b.push(Buffer.from('abcdef\n'));
  const first = b.next()!;
  b.consumed(3); // 'abc' went out
  expect(first.toString()).toBe('abcdef\n');
  b.push(Buffer.from('x\n')); // 4 + 2 = 6: fits
  b.push(Buffer.from('y\n')); // 8: fits
  b.push(Buffer.from('z\n')); // 10: 'x' goes, the partly written head stays
  expect(b.next()!.toString()).toBe('def\n');
  b.consumed(4);
  expect(drain(b)).toBe('[1 dropped]\ny\nz\n');
});

test('the newest write is kept even when it alone is over the bound', () => {
  const b = new Backlog(4, notice);
  b.push(Buffer.from('a\n'));
  b.push(Buffer.from('a long line\n'));
  expect(drain(b)).toBe('[1 dropped]\na long line\n');
});

test('transient writes (progress frames) are dropped without being counted', () => {
  const b = new Backlog(6, notice);
  b.push(Buffer.from('\r⠋ x\n'), true);
  b.push(Buffer.from('\r⠙ y\n'), true);
  expect(b.dropped).toBe(0);
  expect(drain(b)).toBe('\r⠙ y\n');
});

test('a notice that is itself dropped carries its count into the next one', () => {
  const b = new Backlog(16, notice);
  b.push(Buffer.from('0123456789\n'));
  b.push(Buffer.from('abcdefghij\n')); // first goes: 1 dropped
  expect(b.next()!.toString()).toBe('[1 dropped]\n'); // offered, not taken (the reader is still full)
  b.push(Buffer.from('ABCDEFGHIJ\n')); // the notice goes, then 'abc…': 1 + 1
  expect(b.dropped).toBe(2);
  expect(drain(b)).toBe('[2 dropped]\nABCDEFGHIJ\n');
});

test('clear forgets everything and says how many lines were lost', () => {
  const b = new Backlog(6, notice);
  b.push(Buffer.from('a\nb\n'));
  b.push(Buffer.from('c\nd\n')); // 8 > 6: 'a b' dropped
  expect(b.clear()).toBe(4);
  expect(b.empty).toBe(true);
  expect(b.next()).toBeUndefined();
});
