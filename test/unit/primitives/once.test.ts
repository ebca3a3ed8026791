// The once descriptor and its planners on the claim engine (in-memory store, FakeClock): the first
// caller claims the run, the others wait on the watch; a done run ends every wait; a failed run or a
// runner whose claim lapsed (it died) is taken over; --ttl lets a done run lapse.
import { describe, expect, it } from '@jest/globals';
import { decide, deleteRecord, readRecord } from '../../../src/core/claim/engine.js';
import { ClaimKeeper, engineClaim } from '../../../src/core/claim/keeper.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { isKind } from '../../../src/core/errors.js';
import { describeOnce, onceKind, onceRunLost, planOnceClaim, planOnceCreate, planOnceFinish, planOnceRenew } from '../../../src/core/primitives/once.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { holderTiming } from '../../../src/core/timing.js';
import { FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('once');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const claim = (ctx: ClaimContext, clock: FakeClock, holder: string, ttlSeconds = 10) =>
  decide(ctx, onceKind, 'o', planOnceClaim('o', holder, ttlSeconds, clock), { wait: true }).then((d) => d.result);
const finish = (ctx: ClaimContext, clock: FakeClock, holder: string, exitCode: number) =>
  decide(ctx, onceKind, 'o', planOnceFinish('o', holder, exitCode, clock), { wait: false });
const status = async (ctx: ClaimContext, clock: FakeClock) => describeOnce(await readRecord(ctx, onceKind, 'o'), clock);

describe('once run, decided on the record', () => {
  it('one claims the run; the others wait and learn it is done when it exits 0', async () => {
    const { ctx, clock } = setup();
    const first = await claim(ctx(), clock, 'a');
    expect(first).toMatchObject({ run: { attempt: 1 } });
    const waiters = ['b', 'c'].map((h) => claim(ctx(), clock, h));
    await flush();
    await clock.advance(5_000);
    expect(await status(ctx(), clock)).toMatchObject({ state: 'running', holder: 'a', executed: false, attempts: 1 });
    await finish(ctx(), clock, 'a', 0);
    for (const w of await Promise.all(waiters)) expect(w).toMatchObject({ alreadyDone: { holder: 'a', exitCode: 0 } });
    expect(await status(ctx(), clock)).toMatchObject({ state: 'done', executed: true, holder: 'a', exitCode: 0, attempts: 1 });
    expect(await claim(ctx(), clock, 'late')).toMatchObject({ alreadyDone: { holder: 'a' } });
  });

  it('a failed run is recorded and the next caller takes over, with a greater fencing token, also after a delete', async () => {
    const { ctx, clock, store } = setup();
    const first = await claim(ctx(), clock, 'a');
    const next = claim(ctx(), clock, 'b');
    await flush();
    await finish(ctx(), clock, 'a', 7);
    const second = await next;
    expect(second).toMatchObject({ run: { attempt: 2 } });
    const token = (r: typeof first) => BigInt('run' in r ? r.run.fencingToken : NaN);
    expect(token(second)).toBeGreaterThan(token(first));
    expect(JSON.parse((await store.get('o'))!.record!).fencingToken).toBe(String(token(second)));
    expect(await status(ctx(), clock)).toMatchObject({ state: 'running', holder: 'b', lastFailure: { holder: 'a', exitCode: 7 } });
    await deleteRecord(ctx(), onceKind, 'o', () => {}); // deleted under a live runner, then run again
    expect(token(await claim(ctx(), clock, 'c'))).toBeGreaterThan(token(second));
  });

  it('a runner that died (its claim never renewed) is taken over once its TTL has run out, not before', async () => {
    const { ctx, clock } = setup();
    await claim(ctx(), clock, 'dead', 10);
    let took = false;
    const next = claim(ctx(), clock, 'b').then((r) => ((took = true), r));
    await flush();
    await clock.advance(9_500);
    expect(took).toBe(false);
    await clock.advance(1_000);
    expect(await next).toMatchObject({ run: { attempt: 2, previousRunner: 'dead' } });
    // The dead runner, were it to wake up, cannot record an outcome: it is no longer the runner.
    expect(isKind(await finish(ctx(), clock, 'dead', 0).catch((e: unknown) => e), 'lost')).toBe(true);
  });

  it('a ClaimKeeper renews the runner so waiters never take over a live run, and reports a loss', async () => {
    const { ctx, clock, store } = setup();
    const c = ctx();
    const got = await claim(c, clock, 'a', 3);
    if (!('run' in got)) throw new Error('expected a run');
    const keeper = new ClaimKeeper(
      c.clock,
      engineClaim(c, {
        kind: onceKind,
        name: 'o',
        written: got.run.object,
        sentAt: got.run.sentAt,
        lostIn: (s) => onceRunLost('o', 'a', s),
        renew: planOnceRenew('o', 'a', 3),
      }),
      holderTiming(3),
    );
    keeper.start();
    let took = false;
    const waiter = claim(ctx(), clock, 'b', 3).then((r) => ((took = true), r));
    for (let i = 0; i < 30; i++) await clock.advance(500);
    expect(took).toBe(false);
    expect(keeper.renewals).toBeGreaterThan(5);
    store.put('o', JSON.stringify({ runner: null, done: null, attempts: 1, lastFailure: null })); // someone broke it
    expect(await keeper.lost).toMatch(/now being run by nobody/);
    expect(await waiter).toMatchObject({ run: { attempt: 2 } });
  });

  it('with --ttl a done run lapses and the once runs again', async () => {
    const { ctx, clock } = setup();
    await decide(ctx(), onceKind, 'o', planOnceCreate('o', 60), { wait: false });
    await claim(ctx(), clock, 'a');
    await finish(ctx(), clock, 'a', 0);
    const c = ctx();
    expect(await claim(c, clock, 'b')).toMatchObject({ alreadyDone: { holder: 'a' } });
    await clock.advance(66_000); // the TTL plus the allowed clock skew
    expect(await status(c, clock)).toMatchObject({ state: 'pending', executed: false });
    expect(await claim(c, clock, 'b')).toMatchObject({ run: { attempt: 2 } });
  });

  it('status of a never-run once is pending; a corrupt record is refused', async () => {
    const { ctx, clock, store } = setup();
    await decide(ctx(), onceKind, 'o', planOnceCreate('o', undefined), { wait: false });
    expect(await status(ctx(), clock)).toMatchObject({ kind: 'once', state: 'pending', executed: false, attempts: 0, holder: null });
    store.put('o', '{"done":{"holder":"a"}}');
    expect(isKind(await readRecord(ctx(), onceKind, 'o').catch((e: unknown) => e), 'corrupt')).toBe(true);
  });
});
