// Which watch events name the watched object (src/kube/watch-object.ts): the rest are ignored.
import { foreignEvent, type WatchedObject } from '../../../src/kube/watch-object.js';

const target: WatchedObject = {
  collectionPath: '/apis/coordination.k8s.io/v1/namespaces/jobs/leases',
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  name: 'nightly',
  namespace: 'jobs',
};
const lease = (metadata: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'nightly', namespace: 'jobs', uid: 'u1', ...metadata },
  ...over,
});

describe('foreignEvent', () => {
  test('an event naming the watched object is used', () => {
    expect(foreignEvent(target, 'MODIFIED', lease({}), 'u1', false)).toBeUndefined();
    expect(foreignEvent(target, 'MODIFIED', lease({}), undefined, false)).toBeUndefined(); // uid not known yet
  });

  test('another name, namespace, kind or apiVersion is ignored, and said what it named', () => {
    expect(foreignEvent(target, 'MODIFIED', lease({ name: 'other' }), 'u1', false)).toBe('Lease coordination.k8s.io/v1 jobs/other');
    expect(foreignEvent(target, 'MODIFIED', lease({ namespace: 'prod' }), undefined, false)).toBe('Lease coordination.k8s.io/v1 prod/nightly');
    expect(foreignEvent(target, 'MODIFIED', lease({}, { apiVersion: 'konductor.io/v1' }), undefined, false)).toMatch(/konductor/);
    expect(foreignEvent(target, 'MODIFIED', lease({}, { kind: 'ConfigMap', apiVersion: 'v1' }), undefined, false)).toMatch(/^ConfigMap v1/);
    expect(foreignEvent(target, 'DELETED', lease({ name: 'other' }), undefined, false)).toBeDefined();
    expect(foreignEvent(target, 'MODIFIED', null, undefined, false)).toBeDefined();
    expect(foreignEvent(target, 'MODIFIED', { metadata: { name: 'nightly', namespace: 'jobs' } }, undefined, false)).toBeDefined(); // names no kind
  });

  test('the same name with another uid is ignored, unless the known object was deleted and this is its successor being added', () => {
    expect(foreignEvent(target, 'MODIFIED', lease({ uid: 'forged' }), 'u1', false)).toMatch(/with uid forged, not u1/);
    expect(foreignEvent(target, 'DELETED', lease({ uid: 'forged' }), 'u1', false)).toBeDefined();
    expect(foreignEvent(target, 'ADDED', lease({ uid: 'u2' }), 'u1', false)).toBeDefined();
    expect(foreignEvent(target, 'ADDED', lease({ uid: 'u2' }), 'u1', true)).toBeUndefined();
    expect(foreignEvent(target, 'MODIFIED', lease({ uid: 'u2' }), 'u1', true)).toBeDefined();
  });

  test('a cluster-scoped object has no namespace', () => {
    const crd: WatchedObject = {
      collectionPath: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'leases.konductor.io',
    };
    const obj = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'leases.konductor.io', uid: 'c' } };
    expect(foreignEvent(crd, 'MODIFIED', obj, undefined, false)).toBeUndefined();
    expect(foreignEvent(crd, 'MODIFIED', { ...obj, metadata: { ...obj.metadata, namespace: 'x' } }, undefined, false)).toBeDefined();
  });
});
