// The konductor.io/v1 Mutex, Once and RWMutex shapes: konductor-written objects read as konductor
// reads them, koncli's records survive a write and a read unchanged, malformed fields are corrupt.
import { KoncliError } from '../../../src/core/errors.js';
import { mutexKind } from '../../../src/core/primitives/mutex.js';
import { onceKind } from '../../../src/core/primitives/once.js';
import { rwmutexKind } from '../../../src/core/primitives/rwmutex.js';
import { Reader, type Obj } from '../../../src/kube/konductor-lease.js';
import { MUTEX_SHAPE, ONCE_SHAPE, RWMUTEX_SHAPE, type KonductorShape } from '../../../src/kube/konductor-primitive.js';

const read = (shape: KonductorShape) => new Reader('x', 'ns', shape.type);
const object = (spec: Obj, status?: Obj) => ({ metadata: { name: 'x', namespace: 'ns', creationTimestamp: '2024-01-15T10:00:00Z' }, spec, status });
const record = (shape: KonductorShape, spec: Obj, status?: Obj) => JSON.parse(shape.toRecord(object(spec, status), read(shape))) as Obj;
/** What a write stores, read back: the status patch applied to `before` (nulls remove fields, as a merge patch does). */
function roundTrip(shape: KonductorShape, rec: string, before: Obj = {}): Obj {
  const { spec, status } = shape.toObject(rec, { spec: {}, status: before });
  const merged = Object.fromEntries(Object.entries({ ...before, ...status }).filter(([, v]) => v !== null));
  return JSON.parse(shape.toRecord(object(spec ?? {}, merged), read(shape))) as Obj;
}

const claim = {
  holder: 'a',
  acquiredAt: '2024-01-15T10:30:00.000Z',
  renewedAt: '2024-01-15T10:31:00.000Z',
  ttlSeconds: 60,
  expiresAt: '2024-01-15T10:32:00.000Z',
};

describe('Mutex', () => {
  test("konductor's docs example: spec.ttl is the mutex's TTL; a konductor holder lasts spec.ttl from lockedAt", () => {
    expect(record(MUTEX_SHAPE, { ttl: '15m' })).toEqual({ ttlSeconds: 900, holder: null, fencingToken: null });
    const held = record(MUTEX_SHAPE, { ttl: '10m' }, { holder: 'pod-xyz-123', lockedAt: '2024-01-15T10:30:00Z', phase: 'Locked' });
    expect(held.holder).toEqual({ holder: 'pod-xyz-123', acquiredAt: '2024-01-15T10:30:00.000Z', ttlSeconds: 600, expiresAt: '2024-01-15T10:40:00.000Z' });
    expect(record(MUTEX_SHAPE, {}, { holder: 'p', lockedAt: '2024-01-15T10:30:00Z' }).holder).toEqual({ holder: 'p', acquiredAt: '2024-01-15T10:30:00.000Z' });
  });

  test("koncli's record survives a write and a read; konductor's fields say the same", () => {
    const rec = mutexKind.encode({ ttlSeconds: 300, holder: { ...claim, reason: 'deploy' }, fencingToken: '4', unknown: {} });
    expect(roundTrip(MUTEX_SHAPE, rec)).toEqual(JSON.parse(rec));
    const { status, spec } = MUTEX_SHAPE.toObject(rec, { spec: {}, status: {} });
    expect(spec).toEqual({ ttl: '5m' });
    expect(status).toMatchObject({ holder: 'a', lockedAt: claim.acquiredAt, expiresAt: claim.expiresAt, phase: 'Locked' });
    const free = MUTEX_SHAPE.toObject(mutexKind.encode({ ttlSeconds: 300, holder: null, fencingToken: '4', unknown: {} }), { spec: { ttl: '5m' }, status });
    expect(free.spec).toBeUndefined();
    expect(free.status).toMatchObject({ holder: null, lockedAt: null, renewedAt: null, phase: 'Unlocked', fencingToken: '4' });
    // A counter written before tokens were resourceVersions reads as its decimal string.
    expect(record(MUTEX_SHAPE, {}, { phase: 'Unlocked', fencingToken: 4 }).fencingToken).toBe('4');
  });

  test.each([
    [{}, { holder: 5 }, 'status.holder'],
    [{}, { holder: 'a' }, 'status.lockedAt'],
    [{}, { phase: 'Held' }, 'status.phase'],
    [{}, { holder: 'a', lockedAt: 'yesterday' }, 'status.lockedAt'],
    [{ ttl: 'soon' }, {}, 'spec.ttl'],
    [{}, { fencingToken: -1 }, 'status.fencingToken'],
    [{}, { fencingToken: 'v4' }, 'status.fencingToken'],
  ])('spec %j status %j is corrupt (%s)', (spec, status, field) => {
    expect(() => record(MUTEX_SHAPE, spec, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});

describe('Once', () => {
  test('a once marked executed by konductor is done with exit code 0, lapsing spec.ttl after executedAt', () => {
    const done = record(ONCE_SHAPE, { ttl: '1h' }, { executed: true, executor: 'pod-xyz-123', executedAt: '2024-01-15T10:30:00Z', phase: 'Executed' });
    expect(done.done).toEqual({
      holder: 'pod-xyz-123',
      startedAt: '2024-01-15T10:30:00.000Z',
      finishedAt: '2024-01-15T10:30:00.000Z',
      exitCode: 0,
      expiresAt: '2024-01-15T11:30:00.000Z',
    });
    expect(record(ONCE_SHAPE, {}, { executed: true }).done).toMatchObject({ finishedAt: '2024-01-15T10:00:00.000Z', exitCode: 0 });
    expect(record(ONCE_SHAPE, {}, { executed: false, phase: 'Pending' })).toEqual({
      runner: null,
      done: null,
      attempts: 0,
      lastFailure: null,
      fencingToken: null,
    });
  });

  test("koncli's record (a runner, a done run, a failure) survives a write and a read; a stale runner's keys are removed", () => {
    const failed = { holder: 'b', startedAt: claim.acquiredAt, finishedAt: claim.expiresAt, exitCode: 2 };
    const running = onceKind.encode({ runner: { ...claim, reason: 'r' }, done: null, attempts: 2, lastFailure: failed, fencingToken: '812', unknown: {} });
    const before = roundTrip(ONCE_SHAPE, running);
    expect(before).toEqual(JSON.parse(running));
    const doneRun = { holder: 'a', startedAt: claim.acquiredAt, finishedAt: claim.expiresAt, exitCode: 0 };
    const finished = onceKind.encode({ runner: null, done: doneRun, attempts: 2, lastFailure: failed, fencingToken: '812', unknown: {} });
    const { status } = ONCE_SHAPE.toObject(finished, { spec: {}, status: ONCE_SHAPE.toObject(running, { spec: {}, status: {} }).status });
    expect(status).toMatchObject({ executed: true, executor: 'a', executedAt: claim.expiresAt, phase: 'Executed', runner: null });
    expect(roundTrip(ONCE_SHAPE, finished)).toEqual(JSON.parse(finished));
    const next = onceKind.encode({
      runner: { holder: 'c', acquiredAt: claim.acquiredAt },
      done: null,
      attempts: 3,
      lastFailure: failed,
      fencingToken: '815',
      unknown: {},
    });
    const replaced = ONCE_SHAPE.toObject(next, { spec: {}, status: ONCE_SHAPE.toObject(running, { spec: {}, status: {} }).status }).status;
    expect(replaced.runner).toEqual({ holder: 'c', acquiredAt: claim.acquiredAt, renewedAt: null, ttlSeconds: null, expiresAt: null, reason: null });
  });

  test.each([
    [{ executed: 'yes' }, 'status.executed'],
    [{ runner: 'a' }, 'status.runner'],
    [{ runner: { holder: 'a' } }, 'status.runner.acquiredAt'],
    [{ executed: true, exitCode: 'x' }, 'status.exitCode'],
    [{ lastFailure: [] }, 'status.lastFailure'],
  ])('status %j is corrupt (%s)', (status, field) => {
    expect(() => record(ONCE_SHAPE, {}, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});

describe('RWMutex', () => {
  test('writeHolder and readHolders decide who holds it; koncli claims of the same holders give their times', () => {
    const rec = record(RWMUTEX_SHAPE, { ttl: '5m' }, { readHolders: ['a', 'r2'], readers: [claim], lockedAt: '2024-01-15T10:30:00Z', phase: 'ReadLocked' });
    expect(rec.readers).toEqual([claim, { holder: 'r2', acquiredAt: '2024-01-15T10:30:00.000Z', ttlSeconds: 300, expiresAt: '2024-01-15T10:35:00.000Z' }]);
    // koncli's claim of a reader konductor no longer lists is not a hold.
    expect(record(RWMUTEX_SHAPE, {}, { readers: [claim], phase: 'Unlocked' }).readers).toEqual([]);
    expect(record(RWMUTEX_SHAPE, {}, { writeHolder: 'w', writer: claim, lockedAt: '2024-01-15T10:30:00Z' }).writer).toMatchObject({ holder: 'w' });
  });

  test("koncli's record survives a write and a read; konductor's fields say the same", () => {
    const waiting = { holder: 'w2', waitingSince: claim.acquiredAt, ttlSeconds: 30, expiresAt: claim.expiresAt };
    const state = rwmutexKind.decode('x', JSON.stringify({ ttlSeconds: 60, writer: null, readers: [claim], waitingWriters: [waiting], fencingToken: 3 }));
    const rec = rwmutexKind.encode(state);
    expect(roundTrip(RWMUTEX_SHAPE, rec)).toEqual(JSON.parse(rec));
    expect(RWMUTEX_SHAPE.toObject(rec, { spec: {}, status: {} }).status).toMatchObject({
      writeHolder: null,
      readHolders: ['a'],
      lockedAt: claim.acquiredAt,
      expiresAt: claim.expiresAt,
      phase: 'ReadLocked',
    });
  });

  test.each([
    [{ readHolders: 'a' }, 'status.readHolders'],
    [{ readHolders: [''] }, 'status.readHolders'],
    [{ readers: [1] }, 'status.readers'],
    [{ writer: 'w' }, 'status.writer'],
    [{ phase: 'Locked' }, 'status.phase'],
  ])('status %j is corrupt (%s)', (status, field) => {
    expect(() => record(RWMUTEX_SHAPE, {}, status)).toThrow(expect.objectContaining({ kind: 'corrupt', details: { field } }) as KoncliError);
  });
});
