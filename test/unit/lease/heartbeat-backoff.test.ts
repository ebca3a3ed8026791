import { jest } from '@jest/globals';
import { ServerClock } from '../../../src/core/server-clock.js';
import { leaseContext } from '../../../src/core/lease/context.js';
import { acquireLease, acquireOnce, type AcquireRequest } from '../../../src/core/lease/acquire.js';
import { releaseLease } from '../../../src/core/lease/release.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

const req = (holder: string): AcquireRequest => ({ name: 'job', namespace: 'test', holder, durationSeconds: 10, priority: 0, renewable: true, labels: {} });

afterEach(() => jest.restoreAllMocks());

// Many waiters that beat at once used to retry a lost heartbeat on the very next change, so N of
// them cost ~N²/2 writes per round (bench/: 100 idle waiters melted down). Now a lost heartbeat
// waits a random, growing pause.
test('a waiter whose heartbeats keep losing to other writers backs off instead of retrying on every change', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0.5); // pauses of 50, 100, 200, 400, 800 ms
  const clock = new FakeClock();
  const store = new MemoryLeaseStore();
  const ctx = () => leaseContext(store, clock, new ServerClock());
  await acquireOnce(ctx(), req('holder'));
  const held = (await store.get('job'))!;
  let attempts = 0;
  let rivalWins = true;
  const arm = () => {
    store.beforeNextWrite = () => {
      attempts++;
      if (!rivalWins) return;
      store.put(held); // another waiter's queue write lands first: ours conflicts
      arm();
    };
  };
  arm();
  const waiting = acquireLease(ctx(), req('w'), { wait: true });
  await flush();
  expect(attempts).toBe(1);
  await clock.advance(1000);
  expect(attempts).toBe(5); // at 0, 50, 150, 350 and 750 ms: not one per change

  rivalWins = false;
  await clock.advance(2000);
  expect((await store.get('job'))!.extras.queue.waiters.map((x) => x.id)).toEqual(['w']);
  await releaseLease(ctx(), { name: 'job', holder: 'holder', delete: false, force: false });
  expect((await waiting).record.holding.holder).toBe('w');
});

test('a waiter registered again after being dropped is not judged stale by its first registration', async () => {
  const { ExpiryTracker } = await import('../../../src/core/expiry.js');
  const { liveWaiters } = await import('../../../src/core/lease/queue.js');
  const { STALE_AFTER_MS } = await import('../../../src/core/timing.js');
  const clock = new FakeClock();
  const tracker = new ExpiryTracker(clock, new ServerClock());
  const first = { next: 1, waiters: [{ id: 'w', priority: 0, seq: 0, beat: 0 }] };
  expect(liveWaiters(first, tracker, 'test/job', clock.now())).toHaveLength(1);
  await clock.advance(STALE_AFTER_MS + 1);
  expect(liveWaiters(first, tracker, 'test/job', clock.now())).toHaveLength(0); // gone: dropped by the next write
  const again = { next: 8, waiters: [{ id: 'w', priority: 0, seq: 7, beat: 0 }] };
  expect(liveWaiters(again, tracker, 'test/job', clock.now())).toHaveLength(1);
});
