// Waiters ride out a short API-server outage (found by test/reliability/faults.test.ts: every
// `lease run --wait` whose 15 s heartbeat fell into a 16 s kube-apiserver restart exited 8).
import { KoncliError } from '../../../src/core/errors.js';
import { acquireLease, acquireOnce, type AcquireRequest } from '../../../src/core/lease/acquire.js';
import { leaseContext } from '../../../src/core/lease/context.js';
import { releaseLease } from '../../../src/core/lease/release.js';
import { HEARTBEAT_MS, OUTAGE_GRACE_MS } from '../../../src/core/timing.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { lockSemaphore } from '../../../src/core/semaphore/lock.js';
import { semaphoreContext } from '../../../src/core/semaphore/model.js';
import { FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { MemorySemaphoreStore } from '../../support/memory-semaphore-store.js';

const unreachable = () => new KoncliError('unreachable', 'cannot reach the API server (ECONNREFUSED)', { transient: true });

/** Makes every request of `store` fail as unreachable while `down.now` is true. */
function outageOf<T extends object>(store: T, methods: (keyof T)[], down = { now: false }): { now: boolean } {
  for (const m of methods) {
    const real = (store[m] as (...a: unknown[]) => Promise<unknown>).bind(store);
    (store as Record<keyof T, unknown>)[m] = (...args: unknown[]) => (down.now ? Promise.reject(unreachable()) : real(...args));
  }
  return down;
}

const req = (holder: string): AcquireRequest => ({ name: 'job', namespace: 'test', holder, durationSeconds: 30, priority: 0, renewable: true, labels: {} });

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: KoncliError) => err.kind,
  );

describe('a lease waiter during an API-server outage', () => {
  function setup() {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const ctx = () => leaseContext(store, clock, new ServerClock());
    const down = outageOf(store, ['get', 'writeClaim', 'create']);
    return { clock, store, ctx, down: outageOf(store.candidates, ['list', 'get', 'create', 'renew', 'delete'], down) };
  }

  test('a heartbeat that cannot reach the server is retried; the waiter still gets the lease', async () => {
    const { clock, ctx, down } = setup();
    await acquireOnce(ctx(), req('holder'));
    const notices: string[] = [];
    const waiting = acquireLease(ctx(), req('waiter'), { wait: true, onNotice: (m) => notices.push(m) });
    const result = outcome(waiting);
    await flush();
    down.now = true;
    await clock.advance(HEARTBEAT_MS + 5000); // the heartbeat falls into the outage
    down.now = false;
    await clock.advance(2000);
    await releaseLease(ctx(), { name: 'job', holder: 'holder', delete: false, force: false });
    await clock.advance(10);
    expect(await result).toBe('ok');
    expect((await waiting).record.holding.holder).toBe('waiter');
    expect(notices.some((n) => /still waiting/.test(n))).toBe(true);
  });

  test('an outage longer than the grace period fails as unreachable (exit 8)', async () => {
    const { clock, ctx, down } = setup();
    await acquireOnce(ctx(), req('holder'));
    const result = outcome(acquireLease(ctx(), req('waiter'), { wait: true }));
    await flush();
    down.now = true;
    await clock.advance(HEARTBEAT_MS + OUTAGE_GRACE_MS + 2000);
    expect(await result).toBe('unreachable');
  });
});

test('a semaphore waiter whose write meets an outage retries it', async () => {
  const clock = new FakeClock();
  const store = new MemorySemaphoreStore();
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = () => semaphoreContext(store, clock, serverClock);
  await lockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'a', setMax: false, create: true, ttlSeconds: 5 }, { wait: false });
  const down = outageOf(store, ['write', 'get']);
  const waiting = outcome(lockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'b', setMax: false, create: true }, { wait: true }));
  await flush();
  down.now = true;
  await clock.advance(7000); // a's TTL runs out during the outage: b's write fails, and is retried
  down.now = false;
  await clock.advance(6000); // the backoff after 2 s of failures: up to 4 s plus jitter
  expect(await waiting).toBe('ok');
});
