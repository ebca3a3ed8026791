import { ServerClock } from '../../../src/core/server-clock.js';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import { describeLease } from '../../../src/core/lease/describe.js';
import { judgeLease } from '../../../src/core/lease/judge.js';
import { planTake } from '../../../src/core/lease/take.js';
import { planRelease } from '../../../src/core/lease/release.js';
import { planRenew } from '../../../src/core/lease/renew.js';
import { KoncliError } from '../../../src/core/errors.js';
import { ANNOTATIONS } from '../../../src/core/lease/annotations.js';
import type { LeaseRecord } from '../../../src/core/lease/model.js';
import {
  decodeForListing,
  decodeKonductorLease,
  resourceTypeMissing,
  specChange,
  specForDraft,
  statusFor,
  type RawKonductorLease,
} from '../../../src/kube/konductor-lease.js';
import { FakeClock } from '../../support/fake-clock.js';

/** The seed's example, as the server returns it once its status has been written. */
const seed = (status: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'konductor.io/v1',
  kind: 'Lease',
  metadata: { name: 'db-migration', namespace: 'default', resourceVersion: '42', uid: 'u-1', creationTimestamp: '2024-01-15T10:00:00Z', ...extra },
  spec: { ttl: '15m', priority: 10, renewable: true },
  status: {
    holder: 'pod-xyz-123',
    acquired: '2024-01-15T10:30:00Z',
    expires: '2024-01-15T10:45:00Z',
    phase: 'Held',
    renewals: 0,
    conditions: [{ type: 'Ready', status: 'True', reason: 'LeaseReady' }],
    ...status,
  },
});

const decode = (obj: unknown) => decodeKonductorLease(obj, 'fallback');
/** What the server would hold after a status write of `record` on top of `obj`. */
const written = (obj: ReturnType<typeof seed>, record: LeaseRecord, now = Date.parse('2024-01-15T11:00:00Z')) => ({
  ...obj,
  status: statusFor(record, (record.raw as RawKonductorLease).status, now),
});

const corruptField = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KoncliError);
    expect((err as KoncliError).kind).toBe('corrupt');
    expect((err as KoncliError).message).toMatch(/koncli will not interpret or overwrite it/);
    return (err as KoncliError).details.field as string;
  }
  throw new Error('expected a corrupt error');
};

describe('konductor.io/v1 Lease → LeaseRecord', () => {
  test('reads the seed example', () => {
    const r = decode(seed());
    expect(r).toMatchObject({
      name: 'db-migration',
      namespace: 'default',
      version: '42',
      holding: {
        holder: 'pod-xyz-123',
        durationSeconds: 900,
        acquireTime: '2024-01-15T10:30:00.000Z',
        renewTime: '2024-01-15T10:30:00.000Z', // no status.renewed: the claim dates from acquisition
        transitions: 0,
      },
      extras: { renewals: 0, priority: 10, renewable: true, reason: undefined, queue: { next: 0, waiters: [] } },
      createdAt: '2024-01-15T10:00:00.000Z',
    });
    expect(r.serverWrittenAtMost).toBeUndefined();
  });

  test('spec supplies priority and renewable, with the schema defaults when absent', () => {
    expect(decode({ ...seed(), spec: { ttl: '2h', renewable: false } }).extras).toMatchObject({ priority: 0, renewable: false });
    expect(decode({ ...seed(), spec: { ttl: '2h' } }).holding.durationSeconds).toBe(7200);
    expect(decode({ ...seed(), spec: { ttl: '1500ms' } }).holding.durationSeconds).toBe(2); // never shorter than asked
  });

  test('no status (an object created by kubectl apply: the server drops status on create) is a free lease', () => {
    const { status: _dropped, ...created } = seed();
    const r = decode(created);
    expect(r.holding).toEqual({ holder: '', durationSeconds: 900, acquireTime: undefined, renewTime: undefined, transitions: 0 });
    expect(judgeLease(r, new ExpiryTracker(new FakeClock(), new ServerClock()), 0).phase).toBe('Available');
  });

  test('kubectl force release (holder "", phase Available) reads as free', () => {
    const r = decode(seed({ holder: '', phase: 'Available' }));
    expect(r.holding.holder).toBe('');
    expect(judgeLease(r, new ExpiryTracker(new FakeClock(), new ServerClock()), 0).phase).toBe('Available');
  });

  test('the waiter queue comes from the koncli.dev/waiters annotation', () => {
    const queue = { next: 2, waiters: [{ id: 'pod-a', priority: 10, seq: 1, beat: 3 }] };
    const r = decode(seed({}, { annotations: { [ANNOTATIONS.waiters]: JSON.stringify(queue), [ANNOTATIONS.renewals]: 'ignored' } }));
    expect(r.extras.queue).toEqual(queue);
    expect(r.extras.renewals).toBe(0); // koncli's native annotations mean nothing on this kind
  });

  test('serverWrittenAtMost comes from the managedFields entry that owns the status holder fields', () => {
    const managedFields = [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        time: '2024-01-15T12:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:ttl': {} } },
      },
      {
        manager: 'koncli-queue',
        operation: 'Update',
        time: '2024-01-15T12:30:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:koncli.dev/waiters': {} } } },
      },
      {
        manager: 'koncli',
        operation: 'Update',
        subresource: 'status',
        time: '2024-01-15T11:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:holder': {}, 'f:renewed': {} } },
      },
    ];
    expect(decode(seed({}, { managedFields })).serverWrittenAtMost).toBe(Date.parse('2024-01-15T11:00:01Z'));
  });

  test("phase is judged on the observer's clock, never from the status timestamps", () => {
    const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const tracker = new ExpiryTracker(clock, new ServerClock());
    const r = decode(seed()); // acquired and expires lie years in the past
    expect(describeLease(r, tracker, clock.now(), clock.wallNow())).toMatchObject({ phase: 'Held', holder: 'pod-xyz-123', ttlSeconds: 900, priority: 10 });
    expect(describeLease(r, tracker, clock.now() + 899_000, clock.wallNow()).phase).toBe('Held');
    expect(describeLease(r, tracker, clock.now() + 900_000, clock.wallNow()).phase).toBe('Expired');
  });
});

describe('LeaseRecord → konductor.io/v1 Lease', () => {
  const now = Date.parse('2024-01-15T11:00:00Z');
  const stamp = '2024-01-15T11:00:00.000000Z';
  const tracker = () => new ExpiryTracker(new FakeClock(now), new ServerClock());

  test("a take by another holder writes the konductor status fields and koncli's own, and reads back the same", () => {
    const expired = decode(seed({ holder: '' }));
    const plan = planTake(
      expired,
      { name: 'db-migration', namespace: 'default', holder: 'pod-b', priority: 0, renewable: true, reason: 'migrate v42', labels: {} },
      judgeLease(expired, tracker(), now),
      now,
    );
    if (plan.kind !== 'update') throw new Error(plan.kind);
    const status = statusFor(plan.next, (expired.raw as RawKonductorLease).status, now);
    expect(status).toEqual({
      holder: 'pod-b',
      acquired: stamp,
      renewed: stamp,
      expires: '2024-01-15T11:15:00Z',
      phase: 'Held',
      renewals: 0,
      transitions: 1,
      reason: 'migrate v42',
      conditions: [
        { type: 'Ready', status: 'True', reason: 'LeaseReady', message: 'the lease is valid', lastTransitionTime: '2024-01-15T11:00:00Z' },
        { type: 'Held', status: 'True', reason: 'Acquired', message: 'held by pod-b', lastTransitionTime: '2024-01-15T11:00:00Z' },
      ],
    });
    const back = decode(written(seed(), plan.next, now));
    expect(back.holding).toEqual({ ...plan.next.holding, acquireTime: '2024-01-15T11:00:00.000Z', renewTime: '2024-01-15T11:00:00.000Z' });
    expect(back.extras).toEqual({ ...plan.next.extras, priority: 10, renewable: true }); // spec's, not the request's
  });

  test('holder writes leave spec.priority and spec.renewable alone and change spec.ttl only when asked', () => {
    const r = decode(seed());
    const spec = (r.raw as RawKonductorLease).spec;
    expect(specChange(r, spec)).toBeUndefined();
    expect(specChange({ ...r, extras: { ...r.extras, priority: 0, renewable: false } }, spec)).toBeUndefined();
    expect(specChange({ ...r, holding: { ...r.holding, durationSeconds: 5400 } }, spec)).toEqual({ ttl: '1h30m' });
  });

  test('a Lease koncli creates gets its spec from the request', () => {
    const plan = planTake(
      null,
      { name: 'init', namespace: 'default', holder: 'pod-a', durationSeconds: 7200, priority: 3, renewable: false, labels: {} },
      { phase: 'Available', holder: '' },
      now,
    );
    if (plan.kind !== 'create') throw new Error(plan.kind);
    expect(specForDraft(plan.draft)).toEqual({ ttl: '2h', priority: 3, renewable: false });
    const defaulted = planTake(
      null,
      { name: 'x', namespace: 'default', holder: 'pod-a', priority: 0, renewable: true, labels: {} },
      { phase: 'Available', holder: '' },
      now,
    );
    if (defaulted.kind !== 'create') throw new Error(defaulted.kind);
    expect(specForDraft(defaulted.draft).ttl).toBe('5m');
  });

  test('a renewal counts, keeps transition times of unchanged conditions, and marks Held as Renewed', () => {
    const held = decode(written(seed(), decode(seed()), now - 60_000));
    const next = planRenew(held, { name: 'db-migration', holder: 'pod-xyz-123' }, now);
    const status = statusFor(next, (held.raw as RawKonductorLease).status, now);
    expect(status).toMatchObject({ holder: 'pod-xyz-123', renewals: 1, phase: 'Held', expires: '2024-01-15T11:15:00Z' });
    expect(status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Held', status: 'True', reason: 'Renewed', lastTransitionTime: '2024-01-15T10:59:00Z' }),
    );
  });

  test('a release frees the lease: holder "", phase Available, no expiry, Held=False; other conditions are kept', () => {
    const other = { type: 'Synced', status: 'True', reason: 'Controller', lastTransitionTime: '2024-01-01T00:00:00Z' };
    const held = decode(seed({ conditions: [other, { type: 'Ready', status: 'True', reason: 'LeaseReady', lastTransitionTime: '2024-01-15T10:30:00Z' }] }));
    const plan = planRelease(held, { name: 'db-migration', holder: 'pod-xyz-123', delete: false, force: false }, now);
    if (plan.kind !== 'write') throw new Error(plan.kind);
    const status = statusFor(plan.next, (held.raw as RawKonductorLease).status, now);
    expect(status).toMatchObject({ holder: '', phase: 'Available', expires: null, reason: null, acquired: '2024-01-15T10:30:00.000Z' });
    expect(status.conditions).toEqual([
      other,
      expect.objectContaining({ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-15T10:30:00Z' }),
      expect.objectContaining({ type: 'Held', status: 'False', reason: 'Released', lastTransitionTime: '2024-01-15T11:00:00Z' }),
    ]);
  });

  test('a one-time lease (spec.renewable false) refuses renewal', () => {
    const r = decode({ ...seed(), spec: { ttl: '15m', renewable: false } });
    expect(() => planRenew(r, { name: 'db-migration', holder: 'pod-xyz-123' }, now)).toThrow(/one-time lease/);
  });
});

describe('malformed konductor Leases are reported, never interpreted', () => {
  test.each([
    ['status.renewals', { renewals: 'x' }],
    ['status.renewals', { renewals: -1 }],
    ['status.renewals', { renewals: 1.5 }],
    ['status.transitions', { transitions: '3' }],
    ['status.holder', { holder: 42 }],
    ['status.holder', { holder: { name: 'pod' } }],
    ['status.acquired', { acquired: 'yesterday' }],
    ['status.acquired', { acquired: '2024-01-15' }],
    ['status.acquired', { acquired: 1705314600 }],
    ['status.renewed', { renewed: '2024-13-45T99:00:00Z' }],
    ['status.expires', { expires: 'soon' }],
    ['status.phase', { phase: 'Bogus' }],
    ['status.phase', { phase: 1 }],
    ['status.reason', { reason: ['x'] }],
    ['status.conditions', { conditions: 'Ready' }],
    ['status.conditions', { conditions: [{ status: 'True' }] }],
  ])('%s: %j', (field, status) => {
    expect(corruptField(() => decode(seed(status)))).toBe(field);
  });

  test('a status that is not an object', () => {
    expect(corruptField(() => decode({ ...seed(), status: 'Held' }))).toBe('status');
  });

  test.each([
    ['spec.ttl', { ttl: 'abc' }],
    ['spec.ttl', {}],
    ['spec.ttl', { ttl: 900 }],
    ['spec.priority', { ttl: '15m', priority: 'x' }],
    ['spec.renewable', { ttl: '15m', renewable: 'yes' }],
  ])('%s: %j (a CRD installed by someone else may not validate spec)', (field, spec) => {
    expect(corruptField(() => decode({ ...seed(), spec }))).toBe(field);
  });

  test('a broken waiters annotation', () => {
    expect(() => decode(seed({}, { annotations: { [ANNOTATIONS.waiters]: '{' } }))).toThrow(expect.objectContaining({ kind: 'corrupt' }));
  });

  test('the message names the object and a kubectl command that fixes the field', () => {
    expect(() => decode(seed({ renewals: 'x' }))).toThrow(
      `konductor Lease default/db-migration: status.renewals is "x", not a non-negative integer; koncli will not interpret or overwrite it (fix: kubectl patch leases.konductor.io db-migration -n default --subresource=status --type=merge -p '{"status":{"renewals":null}}')`,
    );
  });

  test('listings show a malformed Lease with its problem instead of failing', () => {
    const r = decodeForListing(seed({ renewals: 'x' }), 'fallback');
    expect(r).toMatchObject({ name: 'db-migration', namespace: 'default', version: '42', holding: { holder: 'pod-xyz-123', durationSeconds: 900 } });
    expect(r.problem).toMatch(/status\.renewals is "x"/);
    expect(decodeForListing({ ...seed({ holder: 42 }), spec: { ttl: 'abc' } }, 'ns')).toMatchObject({
      holding: { holder: '', durationSeconds: 0 },
      problem: expect.stringMatching(/spec\.ttl/),
    });
    expect(decodeForListing(seed(), 'ns').problem).toBeUndefined();
  });

  test('null fields are absent (what a merge patch leaves after removing them)', () => {
    const r = decode(seed({ renewals: null, acquired: null, holder: null, phase: null, conditions: null }));
    expect(r.holding.holder).toBe('');
    expect(r.extras.renewals).toBe(0);
  });
});

describe('a cluster without the CRD', () => {
  // Bodies as kube-apiserver v1.36 sends them.
  test('"404 page not found" (unknown group or version) means the resource type is not installed', () => {
    const err = resourceTypeMissing({ code: 404, body: '404 page not found\n' });
    expect(err).toMatchObject({ kind: 'not-found', details: { installed: false } });
    expect(err?.message).toMatch(/koncli crd install/);
  });

  test('a 404 naming the object is an ordinary missing Lease', () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      message: 'leases.konductor.io "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'konductor.io', kind: 'leases' },
      code: 404,
    });
    expect(resourceTypeMissing({ code: 404, body })).toBeUndefined();
    expect(resourceTypeMissing({ code: 403, body: '{}' })).toBeUndefined();
  });
});
