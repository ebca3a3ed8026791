// The gate descriptor, --condition parsing and GateJudge on in-memory stores (FakeClock): a waiter
// follows the gate and every object its conditions name, and returns only once the last is met.
import { describe, expect, it } from '@jest/globals';
import { decide } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { barrierKind, planBarrierArrive, planBarrierCreate } from '../../../src/core/primitives/barrier.js';
import { gateKind, parseCondition, planGateCreate, planGateSet, type GateCondition } from '../../../src/core/primitives/gate.js';
import { evaluateGateOnce, waitForGate, type GateStores } from '../../../src/core/primitives/gate-judge.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryJobStore } from '../../support/memory-job-store.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';
import { MemorySemaphoreStore } from '../../support/memory-semaphore-store.js';

function setup() {
  const clock = new FakeClock();
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const jobs = new MemoryJobStore();
  const records = { barrier: new MemoryRecordStore('barrier'), gate: new MemoryRecordStore('gate') };
  const stores: GateStores = {
    clock,
    serverClock,
    jobs: () => jobs,
    leases: () => new MemoryLeaseStore(),
    semaphores: () => new MemorySemaphoreStore(),
    records: (kind) => records[kind],
  };
  const ctx = (kind: 'barrier' | 'gate'): ClaimContext => claimContext(records[kind], clock, serverClock);
  const createGate = (name: string, conditions: GateCondition[]) => decide(ctx('gate'), gateKind, name, planGateCreate(name, conditions), { wait: false });
  return { clock, stores, jobs, ctx, createGate };
}

describe('--condition', () => {
  it("parses konductor's types, states and namespaces, case-insensitively, into its spelling", () => {
    expect(parseCondition('job/data-validation')).toEqual({ type: 'Job', name: 'data-validation' });
    expect(parseCondition('Job/shared-services/shared-job=complete')).toEqual({
      type: 'Job',
      name: 'shared-job',
      namespace: 'shared-services',
      state: 'Complete',
    });
    expect(parseCondition('lease/db=Acquired')).toEqual({ type: 'Lease', name: 'db', state: 'Acquired' });
    expect(parseCondition('semaphore/pool')).toEqual({ type: 'Semaphore', name: 'pool', value: 1 });
    expect(parseCondition('semaphore/pool=3')).toEqual({ type: 'Semaphore', name: 'pool', value: 3 });
    for (const bad of ['pod/x', 'job', 'job/', 'job/Bad_Name', 'barrier/b=Closed', 'semaphore/s=Open', 'lease/l=Held'])
      expect(() => parseCondition(bad)).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('gate', () => {
  it('a waiter returns only when the Job has succeeded and the barrier opened', async () => {
    const { clock, stores, jobs, ctx, createGate } = setup();
    jobs.put('validate');
    await decide(ctx('barrier'), barrierKind, 'extract', planBarrierCreate({ name: 'extract', expected: 1 }), { wait: false });
    await createGate('g', [parseCondition('job/validate'), parseCondition('barrier/extract')]);
    let done = false;
    const waiter = waitForGate(stores, 'test', 'g', {}).then((ev) => ((done = true), ev));
    await flush();
    jobs.put('validate', { succeeded: 1, complete: true });
    await flush();
    expect(done).toBe(false);
    expect(await evaluateGateOnce(stores, 'test', 'g')).toMatchObject({
      open: false,
      conditions: [{ met: true }, { met: false, message: 'Barrier is waiting' }],
    });
    await decide(ctx('barrier'), barrierKind, 'extract', planBarrierArrive('extract', 'test', 'e1', clock), { wait: false });
    expect(await waiter).toMatchObject({ open: true, opened: null, conditions: [{ met: true }, { met: true, message: 'Barrier is open' }] });
  });

  it('opens by hand until closed; a gate without conditions is closed; a cycle of gates and missing objects are never met; a wait times out as busy', async () => {
    const { clock, stores, ctx, createGate } = setup();
    await createGate('a', [parseCondition('gate/b')]);
    await createGate('b', [parseCondition('gate/a')]);
    const a = await evaluateGateOnce(stores, 'test', 'a');
    expect(a).toMatchObject({ open: false, conditions: [{ type: 'Gate', name: 'b', met: false }] });
    await createGate('missing', [parseCondition('lease/nope'), parseCondition('semaphore/nope'), parseCondition('job/nope')]);
    expect((await evaluateGateOnce(stores, 'test', 'missing')).conditions.map((c) => [c.met, c.message])).toEqual([
      [false, 'Lease not found'],
      [false, 'Semaphore not found'],
      [false, 'Job not found'],
    ]);
    await createGate('manual', []);
    expect((await evaluateGateOnce(stores, 'test', 'manual')).open).toBe(false);
    const waiter = waitForGate(stores, 'test', 'manual', {});
    await flush();
    await decide(ctx('gate'), gateKind, 'manual', planGateSet('manual', 'test', true, 'ops', clock), { wait: false });
    expect(await waiter).toMatchObject({ open: true, opened: { by: 'ops' } });
    await decide(ctx('gate'), gateKind, 'manual', planGateSet('manual', 'test', false, '', clock), { wait: false });
    const timedOut = waitForGate(stores, 'test', 'manual', { timeoutMs: 2_000 }).catch((e: unknown) => e);
    await flush();
    await clock.advance(2_000);
    expect(await timedOut).toMatchObject({
      kind: 'busy',
      message: 'gate manual is closed (it has no conditions: it opens with koncli gate open manual) (waited 2s)',
    });
  });
});
