// The konductor.io/v1 Barrier, WaitGroup and Gate shapes: konductor-written objects read as konductor's
// controller reads them, koncli's records survive a write and a read unchanged, malformed fields are corrupt.
import { KoncliError } from '../../../src/core/errors.js';
import { gateKind } from '../../../src/core/primitives/gate.js';
import { barrierKind } from '../../../src/core/primitives/barrier.js';
import { waitGroupKind } from '../../../src/core/primitives/waitgroup.js';
import { Reader, type Obj } from '../../../src/kube/konductor-lease.js';
import type { KonductorShape } from '../../../src/kube/konductor-primitive.js';
import { BARRIER_SHAPE, GATE_SHAPE, WAITGROUP_SHAPE } from '../../../src/kube/konductor-rendezvous.js';

const CREATED = '2024-01-15T10:00:00.000Z';
const read = (shape: KonductorShape) => new Reader('x', 'ns', shape.type);
const object = (spec: Obj, status?: Obj) => ({ metadata: { name: 'x', namespace: 'ns', creationTimestamp: '2024-01-15T10:00:00Z' }, spec, status });
const record = (shape: KonductorShape, spec: Obj, status?: Obj) => JSON.parse(shape.toRecord(object(spec, status), read(shape))) as Obj;
/** What `create` then a status write store, read back (nulls remove fields, as a merge patch does). */
function roundTrip(shape: KonductorShape, rec: string): Obj {
  const { spec, status } = shape.toObject(rec, { spec: {}, status: {} });
  const drop = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
  return JSON.parse(shape.toRecord(object(drop(spec ?? {}), drop(status)), read(shape))) as Obj;
}

describe('Barrier', () => {
  test("konductor's docs example: spec.timeout counts from creation; konductor's arrivals count from it too (shown only)", () => {
    expect(record(BARRIER_SHAPE, { expected: 10, quorum: 7, timeout: '15m' })).toEqual({
      expected: 10,
      quorum: 7,
      arrivals: [],
      openedAt: null,
      deadline: { acquiredAt: CREATED, ttlSeconds: 900, expiresAt: '2024-01-15T10:15:00.000Z' },
    });
    const open = record(BARRIER_SHAPE, { expected: 2 }, { arrived: 2, arrivals: ['a', 'b'], phase: 'Open', openedAt: '2024-01-15T10:05:00Z' });
    expect(open).toMatchObject({
      arrivals: [
        { holder: 'a', arrivedAt: CREATED },
        { holder: 'b', arrivedAt: CREATED },
      ],
      openedAt: '2024-01-15T10:05:00.000Z',
    });
    expect(record(BARRIER_SHAPE, { expected: 1 }, { phase: 'Open' }).openedAt).toBe(CREATED);
  });

  test("koncli's record survives create and a read; konductor's fields say the same", () => {
    const deadline = { holder: 'timeout', acquiredAt: '2024-01-15T10:01:00.000Z', ttlSeconds: 600, expiresAt: '2024-01-15T10:11:00.000Z' };
    const arrivals = [{ holder: 'a', arrivedAt: '2024-01-15T10:02:00.000Z' }];
    const rec = barrierKind.encode({ expected: 3, quorum: 1, arrivals, openedAt: '2024-01-15T10:02:00.000Z', deadline, unknown: {} });
    expect(roundTrip(BARRIER_SHAPE, rec)).toEqual(JSON.parse(rec));
    const { spec, status } = BARRIER_SHAPE.toObject(rec, { spec: {}, status: {} });
    expect(spec).toEqual({ expected: 3, quorum: 1, timeout: '10m' });
    expect(status).toMatchObject({ arrived: 1, arrivals: ['a'], phase: 'Open' });
    expect(BARRIER_SHAPE.toObject(rec, { spec: { expected: 3 }, status }).spec).toBeUndefined();
  });

  test.each([
    [{}, {}, 'spec.expected'],
    [{ expected: 0 }, {}, 'spec.expected'],
    [{ expected: 2, quorum: 3 }, {}, 'spec.quorum'],
    [{ expected: 2, timeout: 'later' }, {}, 'spec.timeout'],
    [{ expected: 2 }, { arrivals: [1] }, 'status.arrivals'],
    [{ expected: 2 }, { arrivals: ['a'], arrived: 2 }, 'status.arrived'],
    [{ expected: 2 }, { arrivals: ['a'], arrivalTimes: [{ holder: 'a', arrivedAt: 'noon' }] }, 'status.arrivalTimes.arrivedAt'],
    [{ expected: 2 }, { phase: 'Closed' }, 'status.phase'],
  ])('spec %j status %j is corrupt (%s)', (spec, status, field) => {
    expect(() => record(BARRIER_SHAPE, spec, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});

describe('WaitGroup', () => {
  test("konductor's docs example and koncli's record survive a write and a read; phase follows the counter", () => {
    expect(record(WAITGROUP_SHAPE, { ttl: '1h' }, { counter: 3, phase: 'Waiting' })).toEqual({ ttlSeconds: 3600, counter: 3 });
    const rec = waitGroupKind.encode({ ttlSeconds: 60, counter: 2, unknown: {} });
    expect(roundTrip(WAITGROUP_SHAPE, rec)).toEqual(JSON.parse(rec));
    expect(WAITGROUP_SHAPE.toObject(waitGroupKind.encode({ counter: 0, unknown: {} }), { spec: {}, status: {} })).toEqual({
      spec: undefined,
      status: { counter: 0, phase: 'Done' },
    });
  });

  test.each([
    [{}, { counter: -1 }, 'status.counter'],
    [{}, { counter: '3' }, 'status.counter'],
    [{}, { phase: 'Finished' }, 'status.phase'],
    [{ ttl: 'forever' }, {}, 'spec.ttl'],
  ])('spec %j status %j is corrupt (%s)', (spec, status, field) => {
    expect(() => record(WAITGROUP_SHAPE, spec, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});

describe('Gate', () => {
  test("konductor's docs example: its conditions as the engine's; a phase of Open (konductor's SDK Open) is opened, from openedAt", () => {
    const spec = {
      conditions: [
        { type: 'Job', name: 'data-validation', state: 'Complete' },
        { type: 'Barrier', name: 'extractors-done', state: 'Open', extra: 1 },
      ],
    };
    expect(record(GATE_SHAPE, spec, { phase: 'Waiting', conditionsMet: 2 })).toEqual({
      conditions: [
        { type: 'Job', name: 'data-validation', state: 'Complete' },
        { type: 'Barrier', name: 'extractors-done', state: 'Open' },
      ],
      opened: null,
    });
    expect(record(GATE_SHAPE, {}, { phase: 'Open', openedAt: '2024-01-15T10:05:00Z' }).opened).toEqual({ by: '', at: '2024-01-15T10:05:00.000Z' });
    expect(record(GATE_SHAPE, {}, { phase: 'Open' }).opened).toEqual({ by: '', at: CREATED });
  });

  test("koncli's record survives create and a read; conditions are written once", () => {
    const rec = gateKind.encode({ conditions: [{ type: 'Lease', name: 'db', state: 'Available' }], opened: { by: 'ops', at: CREATED }, unknown: {} });
    expect(roundTrip(GATE_SHAPE, rec)).toEqual(JSON.parse(rec));
    const { spec, status } = GATE_SHAPE.toObject(rec, { spec: {}, status: {} });
    expect([spec, status]).toEqual([
      { conditions: [{ type: 'Lease', name: 'db', state: 'Available' }] },
      { phase: 'Open', openedAt: CREATED, openedBy: 'ops' },
    ]);
    const closed = gateKind.encode({ conditions: [], opened: null, unknown: {} });
    expect(GATE_SHAPE.toObject(closed, { spec: {}, status })).toEqual({ spec: undefined, status: { phase: 'Waiting', openedAt: null, openedBy: null } });
  });

  test.each([
    [{ conditions: 'job/x' }, {}, 'spec.conditions'],
    [{}, { phase: 'Ajar' }, 'status.phase'],
    [{}, { phase: 'Open', openedAt: 'noon' }, 'status.openedAt'],
    [{}, { phase: 'Open', openedBy: 7 }, 'status.openedBy'],
  ])('spec %j status %j is corrupt (%s)', (spec, status, field) => {
    expect(() => record(GATE_SHAPE, spec, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});
