import { holderTiming, watchdogTiming } from '../../../src/core/timing.js';
import { WatchdogDeadline } from '../../../src/supervise/watchdog-deadline.js';

describe('supervise/watchdog-deadline', () => {
  test('unarmed, it is never due', () => {
    const d = new WatchdogDeadline(1000);
    expect(d.armed).toBe(false);
    expect(d.untilDue(5000)).toBe(Infinity);
  });

  test("koncli's word counts from its receipt; the newest word counts, earlier or later", () => {
    const d = new WatchdogDeadline(1000);
    d.extend(100, 4000);
    expect(d.armed).toBe(true);
    expect(d.untilDue(100)).toBe(4000);
    expect(d.untilDue(3100)).toBe(1000);
    expect(d.untilDue(4100)).toBe(0);
    expect(d.untilDue(9000)).toBe(0);
    d.extend(2000, 4000); // a renewal: later
    expect(d.untilDue(2000)).toBe(4000);
    d.extend(2500, 1000); // a word with less time left (koncli's last renewal was sent earlier than thought): earlier
    expect(d.untilDue(2500)).toBe(1000);
    d.extend(2600, -50); // already due when it arrived
    expect(d.untilDue(2600)).toBe(0);
    d.extend(2700, NaN);
    expect(d.untilDue(2700)).toBe(0);
  });

  test('SIGKILL comes the grace after the signal, never later than the grace after the deadline', () => {
    const d = new WatchdogDeadline(1250);
    d.extend(0, 4250);
    expect(d.killAt(1000)).toBe(2250); // koncli vanished early: the full grace from now
    expect(d.killAt(4250)).toBe(5500); // on time
    expect(d.killAt(5000)).toBe(5500); // the watchdog woke late: the grace shrinks, the end does not move
    expect(new WatchdogDeadline(300).killAt(42)).toBe(342); // unarmed: from now
  });

  test.each([3, 6, 15, 300])('with a %i s TTL the watchdog signals after koncli would, and its SIGKILL lands before the TTL', (ttl) => {
    const t = holderTiming(ttl);
    const { slackMs, graceMs } = watchdogTiming(t, t.killAfterMs);
    expect(slackMs).toBeGreaterThan(0);
    expect(graceMs).toBeGreaterThan(0);
    expect(t.renewDeadlineMs + slackMs + graceMs).toBeLessThan(t.ttlMs);
    expect(t.ttlMs - (t.renewDeadlineMs + slackMs + graceMs)).toBeGreaterThanOrEqual(Math.min(1000, (t.ttlMs - t.renewDeadlineMs) / 4));
  });

  test('a 6 s TTL: signal 4.25 s and SIGKILL 5.5 s after the last renewal was sent; a long --kill-after is cut to fit, 0 stays 0', () => {
    const t = holderTiming(6);
    expect(watchdogTiming(t, t.killAfterMs)).toEqual({ slackMs: 250, graceMs: 1250 });
    expect(watchdogTiming(t, 60_000).graceMs).toBe(1250);
    expect(watchdogTiming(t, 0).graceMs).toBe(0);
    expect(watchdogTiming(holderTiming(15), 3750)).toEqual({ slackMs: 500, graceMs: 3500 });
  });
});
