import { describe, expect, it } from '@jest/globals';
import { planLock, planUnlock, type LockRequest, type Stamp } from '../../../src/core/semaphore/decide.js';
import { judgeHolders } from '../../../src/core/semaphore/judge.js';
import type { SemaphoreState } from '../../../src/core/semaphore/model.js';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { isKind } from '../../../src/core/errors.js';
import { FakeClock } from '../../support/fake-clock.js';

const clock = new FakeClock();
const tracker = new ExpiryTracker(clock, new ServerClock());
const views = (s: SemaphoreState) => judgeHolders(s, tracker, 'ns/sem', clock.now());
const stamp = (): Stamp => ({ date: '2030-01-01T00:00:00Z', expires: '2030-01-01T00:01:00.000Z' });
const req = (holder: string, more: Partial<LockRequest> = {}): LockRequest => ({ name: 'sem', namespace: 'ns', holder, setMax: false, create: false, ...more });
const held = (max: number, ...ids: string[]): SemaphoreState => ({
  max,
  holders: Object.fromEntries(ids.map((id) => [id, { date: '2018-08-19T19:14:24Z', reason: `r-${id}`, unknown: {} }])),
  unknown: {},
});

const plan = (s: SemaphoreState | undefined, r: LockRequest) => planLock(s, s ? views(s) : [], r, stamp);

describe('planLock', () => {
  it('admits holders while slots are free, then refuses naming the holders', () => {
    let state = held(3);
    for (const id of ['a', 'b', 'c']) {
      const p = plan(state, req(id, { reason: 'why' }));
      expect(p.kind).toBe('write');
      if (p.kind !== 'write') return;
      expect(p.outcome).toBe('acquired');
      expect(p.state.holders[id]).toEqual({ date: '2030-01-01T00:00:00Z', reason: 'why', unknown: {} });
      state = p.state;
    }
    const full = plan(state, req('d'));
    expect(full).toMatchObject({ kind: 'busy', max: 3, retryAt: Infinity });
    if (full.kind === 'busy') expect(full.holders.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(full).not.toHaveProperty('state');
  });

  it('lets a current holder lock again without changing anything', () => {
    const state = held(1, 'a');
    expect(plan(state, req('a', { reason: 'other reason' }))).toEqual({ kind: 'none', outcome: 'already-held' });
    expect(plan(state, req('a', { max: 1 }))).toEqual({ kind: 'none', outcome: 'already-held' });
  });

  it('refreshes only the expiry when a current holder locks again with --ttl', () => {
    const state = held(2, 'a', 'b');
    const p = plan(state, req('a', { ttlSeconds: 60 }));
    expect(p).toMatchObject({ kind: 'write', outcome: 'refreshed' });
    if (p.kind !== 'write') return;
    expect(p.state.holders.a).toEqual({ date: '2018-08-19T19:14:24Z', reason: 'r-a', ttlSeconds: 60, expires: '2030-01-01T00:01:00.000Z', unknown: {} });
    expect(p.state.holders.b).toEqual(state.holders.b);
  });

  it('refuses a --max that differs from the stored max, saying so', () => {
    let err: unknown;
    try {
      plan(held(2, 'a'), req('b', { max: 5 }));
    } catch (e) {
      err = e;
    }
    expect(isKind(err, 'usage')).toBe(true);
    expect((err as Error).message).toMatch(/has max 2 .*--max 5.*--set-max/);
  });

  it('changes max with --set-max; lowering it evicts nobody', () => {
    const raised = plan(held(1, 'a'), req('b', { max: 2, setMax: true }));
    expect(raised).toMatchObject({ kind: 'write', outcome: 'acquired', state: { max: 2 } });

    const lowered = plan(held(3, 'a', 'b', 'c'), req('d', { max: 1, setMax: true }));
    expect(lowered.kind).toBe('busy');
    if (lowered.kind !== 'busy') return;
    expect(lowered.state?.max).toBe(1); // the change is written even though no slot is free
    expect(Object.keys(lowered.state!.holders)).toEqual(['a', 'b', 'c']);

    const holderLowers = plan(held(3, 'a', 'b'), req('a', { max: 1, setMax: true }));
    expect(holderLowers).toMatchObject({ kind: 'write', outcome: 'already-held', state: { max: 1 } });
  });

  it('initialises a ConfigMap without the annotation with --max (default 1)', () => {
    expect(plan(undefined, req('a'))).toMatchObject({ kind: 'write', outcome: 'acquired', state: { max: 1 } });
    expect(plan(undefined, req('a', { max: 4 }))).toMatchObject({ kind: 'write', state: { max: 4 } });
  });

  it('keeps unknown fields of the semaphore and of other holders', () => {
    const state = held(2, 'a');
    state.unknown = { owner: 'x' };
    state.holders.a.unknown = { pid: 1 };
    const p = plan(state, req('b'));
    if (p.kind !== 'write') throw new Error('expected a write');
    expect(p.state.unknown).toEqual({ owner: 'x' });
    expect(p.state.holders.a.unknown).toEqual({ pid: 1 });
  });
});

describe('planUnlock', () => {
  it('removes the holder and keeps the others', () => {
    const next = planUnlock('sem', held(2, 'a', 'b'), views(held(2, 'a', 'b')), ['a']);
    expect(Object.keys(next.holders)).toEqual(['b']);
    expect(next.max).toBe(2);
  });

  it('is not-held for a holder that is not there', () => {
    let err: unknown;
    try {
      planUnlock('sem', held(2, 'a'), views(held(2, 'a')), ['zed']);
    } catch (e) {
      err = e;
    }
    expect(isKind(err, 'not-held')).toBe(true);
    expect((err as Error).message).toMatch(/no holder "zed".*holders: a/);
  });
});
