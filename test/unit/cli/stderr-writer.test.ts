// cli/stderr-writer.ts: a write never waits for the reader; what the reader does not take waits in
// the bounded backlog, is offered again on a timer, and at exit is flushed within a bound.
import { StderrWriter, type Sink } from '../../../src/cli/stderr-writer.js';
import { until } from '../../support/poll.js';

/** A reader that can be paused, take a few bytes at a time, or go away; records what it got. */
function reader() {
  const r = { got: '', offers: 0, paused: false, gone: false, chunk: Infinity };
  const sink: Sink = (bytes) => {
    r.offers++;
    if (r.gone) return 'gone';
    if (r.paused) return 'again';
    const n = Math.min(bytes.length, r.chunk);
    r.got += bytes.subarray(0, n).toString();
    return n;
  };
  return { r, sink };
}

test('a reader that reads gets each write at once, in order', () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 1024, 5);
  w.write('one\n');
  w.write(Buffer.from('two\n'));
  expect(r.got).toBe('one\ntwo\n');
});

test('a paused reader: writes return at once, wait, and go out in order once it reads again', async () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 1024, 5);
  r.paused = true;
  for (let i = 0; i < 5; i++) w.write(`line ${i}\n`);
  expect(r.got).toBe('');
  expect(w.backlog.bytes).toBe(35);
  const offers = r.offers;
  await until('the writer to offer again', () => r.offers > offers + 1); // retried on the timer, not on each write
  r.paused = false;
  await until('the backlog to be written', () => w.backlog.empty);
  expect(r.got).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
});

test('a reader taking a few bytes at a time gets whole lines in order, later writes queued behind', async () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 1024, 5);
  r.chunk = 3;
  r.paused = true;
  w.write('abcdefgh\n');
  w.write('ij\n');
  r.paused = false;
  w.write('kl\n'); // waits behind the held writes, even though the reader takes bytes now
  await until('all written', () => w.backlog.empty);
  expect(r.got).toBe('abcdefgh\nij\nkl\n');
});

test('past the bound the oldest lines are dropped and counted; the reader is told once it reads', async () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 40, 5);
  r.paused = true;
  for (let i = 0; i < 100; i++) w.write(`trace ${String(i).padStart(3, '0')}\n`); // 10 bytes each
  expect(w.backlog.bytes).toBeLessThanOrEqual(40);
  r.paused = false;
  await until('the rest written', () => w.backlog.empty);
  expect(r.got).toBe("koncli: … 96 lines of koncli's output dropped: stderr was not being read\ntrace 096\ntrace 097\ntrace 098\ntrace 099\n");
});

test('progress frames dropped while paused are not counted as lost lines', async () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 20, 5);
  r.paused = true;
  for (let i = 0; i < 50; i++) w.write(`\r⠋ waiting ${i}`, true);
  w.write('final\n');
  r.paused = false;
  await until('written', () => w.backlog.empty);
  expect(r.got).not.toContain('dropped');
  expect(r.got.endsWith('final\n')).toBe(true);
});

test('a reader that is gone: everything is dropped, no write throws, nothing is offered again', () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 1024, 5);
  r.gone = true;
  w.write('lost\n');
  const offers = r.offers;
  w.write('lost too\n');
  expect(r.offers).toBe(offers);
  expect(w.backlog.empty).toBe(true);
});

test('at exit a reader that never reads holds koncli at most the given wait; what is held is dropped', () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 1024, 5);
  r.paused = true;
  w.write('never read\n');
  const started = performance.now();
  w.flushAtExit(200);
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(199);
  expect(waited).toBeLessThan(10_000); // bounded (the bound is 200 ms; the margin is for a loaded machine)
  expect(r.offers).toBeGreaterThan(2); // offered again during the wait
  expect(w.backlog.empty).toBe(true);
  w.write('after\n'); // the wait is spent: one try, no more waiting
  expect(performance.now() - started).toBeLessThan(10_000);
});

test('at exit a reader that reads gets everything, the drop notice first', () => {
  const { r, sink } = reader();
  const w = new StderrWriter(sink, 12, 5);
  r.paused = true;
  w.write('first line\n');
  w.write('last line\n');
  r.paused = false;
  w.flushAtExit(5000);
  expect(r.got).toBe("koncli: … 1 line of koncli's output dropped: stderr was not being read\nlast line\n");
});
