// The wait group descriptor and its planners on the claim engine (in-memory store, FakeClock): the
// counter moved by racing changes, never below 0, and waits ending at 0.
import { describe, expect, it } from '@jest/globals';
import { decide, readRecord } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { describeWaitGroup, planWaitGroupAdd, planWaitGroupCreate, planWaitGroupWait, waitGroupKind } from '../../../src/core/primitives/waitgroup.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('waitgroup');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const add = (ctx: ClaimContext, delta: number) =>
  decide(ctx, waitGroupKind, 'wg', planWaitGroupAdd('wg', 'test', delta), { wait: false }).then((d) => d.result);
const counter = async (ctx: ClaimContext) => describeWaitGroup(await readRecord(ctx, waitGroupKind, 'wg')).counter;

describe('waitgroup', () => {
  it('counts racing adds and dones; a wait ends at 0', async () => {
    const { ctx, store } = setup();
    await decide(ctx(), waitGroupKind, 'wg', planWaitGroupCreate('wg', undefined), { wait: false });
    await add(ctx(), 3);
    const waiter = decide(ctx(), waitGroupKind, 'wg', planWaitGroupWait('wg', 'test'), { wait: true });
    // Another process's add lands between our read and our write: we decide again on its count.
    store.beforeNextWrite = () => void store.put('wg', JSON.stringify({ counter: 4 }));
    expect(await add(ctx(), -1)).toMatchObject({ previous: 4, counter: 3 });
    expect(store.conflicts).toBe(1);
    expect(await counter(ctx())).toBe(3);
    await Promise.all([add(ctx(), -1), add(ctx(), -1), add(ctx(), -1)]);
    expect((await waiter).result.state?.counter).toBe(0);
  });

  it('refuses going below 0 (not-held) and a missing wait group (not-found), writing nothing', async () => {
    const { ctx, store } = setup();
    await expect(add(ctx(), 1)).rejects.toMatchObject({ kind: 'not-found' });
    await decide(ctx(), waitGroupKind, 'wg', planWaitGroupCreate('wg', 60), { wait: false });
    await add(ctx(), 2);
    const written = store.history.length;
    await expect(add(ctx(), -3)).rejects.toMatchObject({
      kind: 'not-held',
      message: 'waitgroup wg is at 2; --delta -3 would take it below 0 (more done than added): nothing changed',
    });
    expect(store.history.length).toBe(written);
    expect(await counter(ctx())).toBe(2);
    await expect(decide(ctx(), waitGroupKind, 'wg', planWaitGroupCreate('wg', 30), { wait: false })).rejects.toMatchObject({ kind: 'usage' });
  });
});
