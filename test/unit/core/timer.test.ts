import { after, MAX_TIMER_MS, sleepFor, timeoutSignal, timerDelay, type TimerHost } from '../../../src/core/timer.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** Virtual time: every timer armed is recorded; `run()` fires them in order, jumping the clock. */
class VirtualTimers implements TimerHost {
  time = 0;
  armed: number[] = [];
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now = () => this.time;
  set = (fn: () => void, ms: number) => {
    this.armed.push(ms);
    const id = ++this.ids;
    // Node's own rule: over MAX_TIMER_MS (or not finite) fires after 1 ms.
    this.pending.push({ at: this.time + (ms > MAX_TIMER_MS || !Number.isFinite(ms) ? 1 : ms), fn, id });
    return id;
  };
  clear = (id: unknown) => {
    this.pending = this.pending.filter((p) => p.id !== id);
  };
  /** Fires due timers until `until` (virtual ms). */
  run(until: number): void {
    for (;;) {
      const next = this.pending.sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > until) break;
      this.pending.shift();
      this.time = next.at;
      next.fn();
    }
    this.time = until;
  }
}

const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(w.name);
beforeAll(() => process.on('warning', onWarning));
afterAll(() => process.off('warning', onWarning));

describe('core/timer', () => {
  test('timerDelay clamps to what one Node timer takes', () => {
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(Number.NaN)).toBe(0);
    expect(timerDelay(1500)).toBe(1500);
    expect(timerDelay(YEAR)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Infinity)).toBe(MAX_TIMER_MS);
  });

  test.each([
    ['30 days', 30 * DAY],
    ['6 months', 182 * DAY],
    ['1 year', YEAR],
    ['the longest TTL (2^31-1 s, 68 years)', (2 ** 31 - 1) * 1000],
  ])('after(%s) fires exactly then, never early, and never arms a timer over 2^31-1 ms', (_, ms) => {
    const host = new VirtualTimers();
    let firedAt: number | undefined;
    after(ms, () => (firedAt = host.time), { host });
    host.run(ms - 1);
    expect(firedAt).toBeUndefined();
    host.run(ms + 10);
    expect(firedAt).toBe(ms);
    expect(Math.max(...host.armed)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(host.armed.length).toBe(Math.ceil(ms / MAX_TIMER_MS));
  });

  test('never fires synchronously, even for 0 or a negative delay (a caller may not hold the handle yet)', async () => {
    let fired = 0;
    after(0, () => fired++);
    after(-5, () => fired++);
    expect(fired).toBe(0);
    await sleepFor(0);
    await sleepFor(-5);
    await sleepFor(Number.NaN);
    await new Promise((r) => setTimeout(r, 5));
    expect(fired).toBe(2);
  });

  test('Infinity never fires; cancel stops a long chain', () => {
    const host = new VirtualTimers();
    let fired = 0;
    after(Infinity, () => fired++, { host });
    const cancelled = after(YEAR, () => fired++, { host });
    host.run(YEAR / 2);
    cancelled.cancel();
    host.run(100 * YEAR);
    expect(fired).toBe(0);
    expect(Math.max(...host.armed)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  test('sleepFor resolves at the due time, or at once on abort', async () => {
    const host = new VirtualTimers();
    let woke = false;
    const sleeping = sleepFor(2 * YEAR, undefined, host).then(() => (woke = true));
    host.run(2 * YEAR - 1);
    await Promise.resolve();
    expect(woke).toBe(false);
    host.run(2 * YEAR);
    await sleeping;
    expect(woke).toBe(true);
    const abort = new AbortController();
    const aborted = sleepFor(YEAR, abort.signal, host);
    abort.abort();
    await aborted; // resolves (would time the test out otherwise)
  });

  test('on real Node timers: a year does not fire early and prints no TimeoutOverflowWarning', async () => {
    let fired = false;
    const timer = after(YEAR, () => (fired = true));
    const signal = timeoutSignal(YEAR);
    const abort = new AbortController();
    const sleeping = sleepFor(YEAR, abort.signal).then(() => (fired = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toBe(false);
    expect(signal.aborted).toBe(false);
    timer.cancel();
    abort.abort();
    await sleeping;
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  test('timeoutSignal aborts with a TimeoutError, as AbortSignal.timeout does', async () => {
    const signal = timeoutSignal(10);
    await new Promise((r) => setTimeout(r, 40));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });
});
