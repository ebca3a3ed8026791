// kube/primitive-store.ts: a primitive's ConfigMap as the engine reads it, with the server's time of
// its record's last write taken from the managedFields entries that own the record's annotation.
import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { recordObjectOf } from '../../../src/kube/primitive-store.js';

const owning = (key: string) => ({ 'f:metadata': { 'f:annotations': { [`f:${key}`]: {} } } });
const cm = (managedFields?: V1ManagedFieldsEntry[]): V1ConfigMap => ({
  metadata: {
    name: 'm',
    namespace: 'ops',
    resourceVersion: '812',
    uid: 'u1',
    labels: { 'koncli.dev/primitive': 'mutex' },
    annotations: { 'koncli.dev/mutex': '{"holder":null}', other: 'x' },
    managedFields,
  },
});

describe('recordObjectOf', () => {
  it("takes the latest write time of the entries owning the record's annotation, plus managedFields' 1 s precision", () => {
    const obj = recordObjectOf(
      cm([
        { manager: 'koncli', operation: 'Update', time: new Date('2026-12-06T08:00:00Z'), fieldsV1: owning('koncli.dev/mutex') },
        { manager: 'kubectl', operation: 'Update', time: new Date('2026-12-06T09:00:00Z'), fieldsV1: owning('other') },
      ]),
      'koncli.dev/mutex',
      'ops',
    );
    expect(obj).toMatchObject({ name: 'm', version: '812', record: '{"holder":null}', labelledKind: 'mutex' });
    expect(obj.writtenAtMost).toBe(Date.parse('2026-12-06T08:00:01Z'));
  });

  it('reads the string times of a watch event, and the newest of several owners', () => {
    const fields = [
      { manager: 'koncli', time: '2026-12-06T08:00:00Z', fieldsV1: owning('koncli.dev/mutex') },
      { manager: 'kubectl-annotate', time: '2026-12-06T08:05:00Z', fieldsV1: owning('koncli.dev/mutex') },
    ];
    expect(recordObjectOf(cm(fields as never), 'koncli.dev/mutex', 'ops').writtenAtMost).toBe(Date.parse('2026-12-06T08:05:01Z'));
  });

  it('has no write time when the server recorded none (no managedFields, or none owning the annotation)', () => {
    expect(recordObjectOf(cm(undefined), 'koncli.dev/mutex', 'ops').writtenAtMost).toBeUndefined();
    const other = [{ manager: 'kubectl', time: new Date('2026-12-06T09:00:00Z'), fieldsV1: owning('other') }];
    expect(recordObjectOf(cm(other), 'koncli.dev/mutex', 'ops').writtenAtMost).toBeUndefined();
  });
});
