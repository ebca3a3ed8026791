// The barrier descriptor and its planners on the claim engine (in-memory store, FakeClock): arrivals
// per holder, the quorum opening it once (also when arrivals race), its --timeout failing it, waits.
import { describe, expect, it } from '@jest/globals';
import { decide, readRecord } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { isKind } from '../../../src/core/errors.js';
import { barrierKind, describeBarrier, planBarrierArrive, planBarrierCreate, planBarrierWait } from '../../../src/core/primitives/barrier.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('barrier');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const create = (ctx: ClaimContext, expected: number, quorum?: number, timeoutSeconds?: number) =>
  decide(ctx, barrierKind, 'b', planBarrierCreate({ name: 'b', expected, quorum, timeoutSeconds }), { wait: false });
const arrive = (ctx: ClaimContext, clock: FakeClock, holder: string) =>
  decide(ctx, barrierKind, 'b', planBarrierArrive('b', 'test', holder, clock), { wait: false }).then((d) => d.result);
const wait = (ctx: ClaimContext, timeoutMs?: number) => decide(ctx, barrierKind, 'b', planBarrierWait('b', 'test'), { wait: true, timeoutMs });
const status = async (ctx: ClaimContext, clock: FakeClock) => describeBarrier(await readRecord(ctx, barrierKind, 'b'), clock);

describe('barrier', () => {
  it('opens at the quorum, exactly once, and wakes its waiters; a repeated arrival changes nothing', async () => {
    const { ctx, clock, store } = setup();
    await create(ctx(), 4, 3);
    const waiter = wait(ctx());
    expect(await arrive(ctx(), clock, 'a')).toMatchObject({ outcome: 'arrived', opened: false });
    const written = store.history.length;
    expect(await arrive(ctx(), clock, 'a')).toMatchObject({ outcome: 'already-arrived', opened: false });
    expect(store.history.length).toBe(written);
    expect(await arrive(ctx(), clock, 'b')).toMatchObject({ opened: false });
    expect(await arrive(ctx(), clock, 'c')).toMatchObject({ opened: true, state: { openedAt: expect.any(String) } });
    expect(await arrive(ctx(), clock, 'd')).toMatchObject({ outcome: 'arrived', opened: false });
    expect((await waiter).result.state).toMatchObject({ openedAt: expect.any(String) });
    expect(await status(ctx(), clock)).toMatchObject({ phase: 'Open', arrived: 4, arrivals: ['a', 'b', 'c', 'd'] });
  });

  it('arrivals racing on a stale read are decided again: both count, one opens it', async () => {
    const { ctx, clock, store } = setup();
    await create(ctx(), 2);
    // Another process's arrival lands between our read and our write.
    const rival = { expected: 2, arrivals: [{ holder: 'rival', arrivedAt: new Date(clock.wallNow()).toISOString() }], openedAt: null };
    store.beforeNextWrite = () => void store.put('b', JSON.stringify(rival));
    const mine = await arrive(ctx(), clock, 'me');
    expect(store.conflicts).toBe(1);
    expect(mine.opened).toBe(true);
    expect(await status(ctx(), clock)).toMatchObject({ phase: 'Open', arrivals: ['rival', 'me'] });
  });

  it('fails when its --timeout lapses before the quorum: waits end with busy, arrivals are refused', async () => {
    const { ctx, clock } = setup();
    await create(ctx(), 3, undefined, 10);
    await arrive(ctx(), clock, 'a');
    const waiter = wait(ctx()).catch((e: unknown) => e);
    await flush();
    await advanceInSteps(clock, 11_000);
    const err = await waiter;
    expect(isKind(err, 'busy') && err.message).toMatch(/^barrier b has failed: its --timeout of 10s passed with 1 of 3 needed arrivals/);
    // A fresh process judges the deadline by the creator's expiresAt plus --max-clock-skew (5s).
    await advanceInSteps(clock, 5_000);
    await expect(arrive(ctx(), clock, 'b')).rejects.toMatchObject({ kind: 'busy', message: expect.stringMatching(/; not arriving$/) });
    expect(await status(ctx(), clock)).toMatchObject({ phase: 'Failed', arrived: 1 });
  });

  it('refuses arriving at a barrier that does not exist; waits for one not created yet; refuses other settings', async () => {
    const { ctx, clock } = setup();
    await expect(arrive(ctx(), clock, 'a')).rejects.toMatchObject({ kind: 'not-found' });
    const waiter = wait(ctx());
    await flush();
    await create(ctx(), 1);
    await arrive(ctx(), clock, 'a');
    expect((await waiter).result.state?.openedAt).toEqual(expect.any(String));
    await expect(create(ctx(), 2)).rejects.toMatchObject({ kind: 'usage' });
    expect((await create(ctx(), 1)).result.outcome).toBe('exists');
  });
});
