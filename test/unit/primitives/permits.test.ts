// The counted semaphore (konductor's Semaphore without its operator) on the claim engine, with the
// in-memory record store and a FakeClock: at most `permits` live holders even when two acquirers
// decide on the same read, foreign permits counted, lapsed holders pruned, release rules (issue 22).
import { describe, expect, it } from '@jest/globals';
import { decide, readRecord } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { isKind } from '../../../src/core/errors.js';
import {
  describePermits,
  permitsKind,
  planPermitAcquire,
  planPermitRelease,
  planPermitsCreate,
  type PermitsState,
} from '../../../src/core/primitives/permits.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';
import { rejection } from '../../support/rejection.js';

function setup(permits = 2, foreign: PermitsState['foreign'] = []) {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('semaphore');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  store.put('s', JSON.stringify({ permits, holders: [], foreign }));
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const acquire = (ctx: ClaimContext, clock: FakeClock, holder: string, ttlSeconds = 60) =>
  decide(ctx, permitsKind, 's', planPermitAcquire({ name: 's', namespace: 'test', holder, ttlSeconds }, clock), { wait: false });
const release = (ctx: ClaimContext, holder: string, force = false, ifHolder?: string[]) =>
  decide(ctx, permitsKind, 's', planPermitRelease({ name: 's', namespace: 'test', holder, force, ifHolder }), { wait: false });
const holders = async (store: MemoryRecordStore) => (JSON.parse((await store.get('s'))!.record!) as PermitsState).holders.map((c) => c.holder);

describe('semaphore acquire (konductor storage)', () => {
  it('grants up to `permits` holders, refreshes a holder, and refuses the next with busy, writing nothing', async () => {
    const { store, ctx, clock } = setup(2);
    expect((await acquire(ctx(), clock, 'a')).result.outcome).toBe('acquired');
    expect((await acquire(ctx(), clock, 'a')).result.outcome).toBe('refreshed');
    await acquire(ctx(), clock, 'b');
    const written = store.history.length;
    const err = await rejection(acquire(ctx(), clock, 'c'));
    expect(isKind(err, 'busy')).toBe(true);
    expect(err.message).toMatch(/no free permit \(2\/2 in use\)/);
    expect(store.history.length).toBe(written);
    expect(await holders(store)).toEqual(['a', 'b']);
  });

  it('two acquirers deciding on the same read of the last permit: the second write conflicts, re-reads and is refused', async () => {
    const { store, ctx, clock } = setup(1);
    // b decides on the read with no holder; a writes first (between b's read and b's write).
    store.beforeNextWrite = () =>
      void store.put('s', JSON.stringify({ permits: 1, holders: [{ holder: 'a', acquiredAt: new Date().toISOString() }], foreign: [] }));
    const err = await rejection(acquire(ctx(), clock, 'b'));
    expect(isKind(err, 'busy')).toBe(true);
    expect(store.conflicts).toBe(1);
    expect(await holders(store)).toEqual(['a']);
  });

  it('a permit answered later than its send-time budget is given back, the other holders kept (unreachable, late)', async () => {
    const { store, ctx, clock } = setup(3);
    await acquire(ctx(), clock, 'a');
    const write = store.write.bind(store);
    store.write = async (obj, record) => {
      const written = await write(obj, record);
      if (JSON.parse(record).holders.some((c: { holder: string }) => c.holder === 'b')) await clock.advance(9_000); // past 2/3 of b's 10 s TTL
      return written;
    };
    const err = await rejection(acquire(ctx(), clock, 'b', 10));
    expect(err).toMatchObject({ kind: 'unreachable', details: { late: true } });
    expect(await holders(store)).toEqual(['a']);
  });

  it('counts foreign permits, and takes a permit once a holder has lapsed (pruning it in the same write)', async () => {
    const at = new Date().toISOString();
    const { store, ctx, clock } = setup(2, [{ holder: 'konductor-job', acquiredAt: at, permit: 'p1' }]);
    await acquire(ctx(), clock, 'a', 10);
    expect(isKind(await rejection(acquire(ctx(), clock, 'b')), 'busy')).toBe(true);
    await clock.advance(11_000);
    const c = ctx();
    await readRecord(c, permitsKind, 's'); // first sighting starts the observed-time rule
    await clock.advance(11_000);
    const taken = await acquire(c, clock, 'b');
    expect(taken.result).toMatchObject({ outcome: 'acquired', pruned: ['a'] });
    expect(await holders(store)).toEqual(['b']);
  });

  it('refuses a missing semaphore (not-found) unless created, and a --max that differs from permits (usage)', async () => {
    const { ctx, clock } = setup(2);
    const missing = decide(ctx(), permitsKind, 'none', planPermitAcquire({ name: 'none', namespace: 'test', holder: 'a' }, clock), { wait: false });
    expect(isKind(await rejection(missing), 'not-found')).toBe(true);
    const mismatch = decide(ctx(), permitsKind, 's', planPermitAcquire({ name: 's', namespace: 'test', holder: 'a', max: 3 }, clock), { wait: false });
    expect(isKind(await rejection(mismatch), 'usage')).toBe(true);
    const created = await decide(ctx(), permitsKind, 'new', planPermitAcquire({ name: 'new', namespace: 'test', holder: 'a', createWith: 3 }, clock), {
      wait: false,
    });
    expect(created.result).toMatchObject({ created: true, state: { permits: 3 } });
  });
});

describe('semaphore release (konductor storage)', () => {
  it("releases the holder's permit; again, or on a missing semaphore, is already-free", async () => {
    const { store, ctx, clock } = setup(2);
    await acquire(ctx(), clock, 'a');
    expect((await release(ctx(), 'a')).result).toMatchObject({ outcome: 'released', removed: ['a'] });
    expect((await release(ctx(), 'a')).result.outcome).toBe('already-free');
    expect(await holders(store)).toEqual([]);
    const gone = await decide(ctx(), permitsKind, 'none', planPermitRelease({ name: 'none', namespace: 'test', holder: 'a', force: false }), { wait: false });
    expect(gone.result.outcome).toBe('already-free');
  });

  it("a foreign permit's own holder releases it (its Permit to delete); --force needs every named holder to hold (not-held otherwise)", async () => {
    const at = new Date().toISOString();
    const { ctx, clock } = setup(3, [{ holder: 'job', acquiredAt: at, permit: 'p1' }]);
    await acquire(ctx(), clock, 'a');
    expect((await release(ctx(), 'job')).result).toMatchObject({ outcome: 'released', removed: [], foreignPermits: ['p1'] });
    expect(isKind(await rejection(release(ctx(), 'op', true, ['a', 'ghost'])), 'not-held')).toBe(true);
    expect((await release(ctx(), 'op', true, ['a'])).result).toMatchObject({ outcome: 'broken', removed: ['a'] });
  });
});

describe('semaphore create and status (konductor storage)', () => {
  it('creates once; the same settings are `exists`, others a usage error; status counts live holders', async () => {
    const { ctx, clock } = setup(2);
    const made = await decide(ctx(), permitsKind, 'n', planPermitsCreate('n', 3, 600), { wait: false });
    expect(made.result.outcome).toBe('created');
    expect((await decide(ctx(), permitsKind, 'n', planPermitsCreate('n', 3, undefined), { wait: false })).result.outcome).toBe('exists');
    expect(isKind(await rejection(decide(ctx(), permitsKind, 'n', planPermitsCreate('n', 4, undefined), { wait: false })), 'usage')).toBe(true);
    await acquire(ctx(), clock, 'a');
    const c = ctx();
    const doc = describePermits(await readRecord(c, permitsKind, 's'), c.clock);
    expect(doc).toMatchObject({ permits: 2, inUse: 1, free: 1, state: 'held', holders: [{ holder: 'a', source: 'koncli', state: 'held' }] });
  });
});
