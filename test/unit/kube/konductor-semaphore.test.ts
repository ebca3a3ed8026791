// The konductor.io/v1 Semaphore shape and the Permits read beside it: konductor's docs example read
// as it is, koncli's claims read strictly, the status written for konductor's readers, a foreign
// Permit as a claim (its TTL from spec.ttl, else the semaphore's, else none), the mirror's name.
import { describe, expect, it } from '@jest/globals';
import { KoncliError } from '../../../src/core/errors.js';
import type { PermitsState } from '../../../src/core/primitives/permits.js';
import { Reader } from '../../../src/kube/konductor-lease.js';
import { foreignPermit, isForeignPermitOf, mirrorName, SEMAPHORE_SHAPE } from '../../../src/kube/konductor-semaphore.js';

const reader = () => new Reader('batch-limit', 'default', SEMAPHORE_SHAPE.type);
const semaphore = (spec: object, status?: object) => ({
  apiVersion: 'konductor.io/v1',
  kind: 'Semaphore',
  metadata: { name: 'batch-limit', namespace: 'default' },
  spec,
  ...(status && { status }),
});
const record = (obj: unknown) => JSON.parse(SEMAPHORE_SHAPE.toRecord(obj, reader())) as PermitsState;
const corrupt = (obj: unknown) => {
  try {
    SEMAPHORE_SHAPE.toRecord(obj, reader());
  } catch (err) {
    return err as KoncliError;
  }
  throw new Error('expected corrupt');
};

describe('SEMAPHORE_SHAPE', () => {
  it("reads konductor's docs example (spec only, or its operator's status) with no holders", () => {
    expect(record(semaphore({ permits: 10, ttl: '30m' }))).toEqual({ permits: 10, ttlSeconds: 1800, holders: [], foreign: [] });
    expect(record(semaphore({ permits: 10 }, { inUse: 3, available: 7, phase: 'Ready' }))).toEqual({ permits: 10, holders: [], foreign: [] });
  });

  it("reads koncli's claims strictly: malformed ones, a bad spec.permits or phase are corrupt", () => {
    const claim = { holder: 'a', acquiredAt: '2026-01-01T00:00:00.000Z', ttlSeconds: 60, expiresAt: '2026-01-01T00:01:00.000Z' };
    expect(record(semaphore({ permits: 2 }, { claims: [claim] })).holders).toEqual([claim]);
    for (const bad of [
      semaphore({ permits: 2 }, { claims: 'me' }),
      semaphore({ permits: 2 }, { claims: [{ holder: 'a' }] }),
      semaphore({ permits: 2 }, { claims: [{ ...claim, expiresAt: undefined }] }),
      semaphore({ permits: 0 }),
      semaphore({ permits: 2 }, { phase: 'Open' }),
    ]) {
      const err = corrupt(bad);
      expect([err.kind, err.message]).toEqual([
        'corrupt',
        expect.stringMatching(/^konductor Semaphore default\/batch-limit: (spec|status)\.\w+ is .*; koncli will not/),
      ]);
    }
  });

  it("writes koncli's claims and, for konductor's readers, holders, inUse, available and phase; the spec only when it changes", () => {
    const claim = { holder: 'a', acquiredAt: '2026-01-01T00:00:00Z' };
    const state: PermitsState = { permits: 2, ttlSeconds: 300, holders: [claim], foreign: [{ ...claim, holder: 'job', permit: 'p1' }] };
    const { spec, status } = SEMAPHORE_SHAPE.toObject(JSON.stringify(state), { spec: { permits: 2, ttl: '5m' }, status: {} });
    expect(spec).toBeUndefined();
    expect(status).toEqual({ claims: [claim], holders: ['a', 'job'], inUse: 2, available: 0, phase: 'Full' });
    expect(SEMAPHORE_SHAPE.toObject(JSON.stringify(state), { spec: {}, status: {} }).spec).toEqual({ permits: 2, ttl: '5m' });
  });
});

describe('Permits', () => {
  const permit = (spec: object, extra: { labels?: object; status?: object } = {}) => ({
    metadata: {
      name: 'api-quota-permit-1',
      namespace: 'default',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: extra.labels ?? { semaphore: 'api-quota' },
    },
    spec,
    ...(extra.status && { status: extra.status }),
  });

  it('a foreign Permit counts from its acquiredAt, else its creation, for spec.ttl, else the semaphore’s, else for ever', () => {
    expect(foreignPermit(permit({ semaphore: 'api-quota', holder: 'job', ttl: '10m' }), 60)).toEqual({
      holder: 'job',
      acquiredAt: '2026-01-01T00:00:00.000Z',
      ttlSeconds: 600,
      expiresAt: '2026-01-01T00:10:00.000Z',
      permit: 'api-quota-permit-1',
    });
    expect(foreignPermit(permit({ semaphore: 'api-quota', holder: 'job' }, { status: { acquiredAt: '2026-01-01T00:05:00Z' } }), 60)).toMatchObject({
      acquiredAt: '2026-01-01T00:05:00.000Z',
      ttlSeconds: 60,
    });
    expect(foreignPermit(permit({ semaphore: 'api-quota', holder: 'job' }), undefined)).not.toHaveProperty('ttlSeconds');
    expect(() => foreignPermit(permit({ semaphore: 'api-quota', holder: 'job' }, { status: { acquiredAt: 'yesterday' } }), undefined)).toThrow(
      /Permit default\/api-quota-permit-1: status\.acquiredAt is "yesterday"/,
    );
  });

  it("belongs by konductor's label or spec.semaphore; koncli's mirrors are never foreign; mirror names are valid", () => {
    expect(isForeignPermitOf(permit({ semaphore: 'other' }), 'api-quota')).toBe(true);
    expect(isForeignPermitOf(permit({ semaphore: 'api-quota' }, { labels: {} }), 'api-quota')).toBe(true);
    expect(isForeignPermitOf(permit({ semaphore: 'x' }, { labels: {} }), 'api-quota')).toBe(false);
    expect(
      isForeignPermitOf(permit({ semaphore: 'api-quota' }, { labels: { semaphore: 'api-quota', 'app.kubernetes.io/managed-by': 'koncli' } }), 'api-quota'),
    ).toBe(false);
    expect(mirrorName('api-quota', 'my-app')).toBe('api-quota-my-app');
    expect(mirrorName('api-quota', 'Host_1')).toMatch(/^api-quota-[0-9a-f]{16}$/);
  });
});
