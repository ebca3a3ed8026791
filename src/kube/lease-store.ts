import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { decodeExtras, encodeExtras } from '../core/lease/annotations.js';
import { microTime, type LeaseDraft, type LeaseHolding, type LeaseRecord, type LeaseStore } from '../core/lease/model.js';
import type { Watchable, WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { CANDIDATE_FOR_LABEL, KubeCandidateStore } from './lease-candidates.js';
import { recordEvent } from './events.js';
import { canonicalJson, identityOf, isoTime, mapPatch, mergePatchOptions } from './patch.js';
import { lastWriteOf, watchObject, type FieldSet } from './watch-object.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

interface RawLease {
  annotations: Record<string, string>;
  labels: Record<string, string>;
  holding: LeaseHolding;
  uid?: string;
}

/** A managedFields entry that owns any part of the spec: the whole spec is the holder's claim. */
const ownsHolding = (fields: FieldSet) => {
  const spec = fields['f:spec'];
  return !!spec && Object.keys(spec).some((k) => k.startsWith('f:'));
};

/**
 * The whole spec as one text, the same whether it came from a GET (times as Date, ms precision) or a
 * watch event (times as MicroTime strings).
 */
const claimOf = (spec: V1Lease['spec'] & object) =>
  canonicalJson({
    holderIdentity: spec.holderIdentity ?? null,
    leaseDurationSeconds: spec.leaseDurationSeconds ?? null,
    acquireTime: isoTime(spec.acquireTime) ?? null,
    renewTime: isoTime(spec.renewTime) ?? null,
    leaseTransitions: spec.leaseTransitions ?? null,
    preferredHolder: spec.preferredHolder ?? null,
    strategy: spec.strategy ?? null,
  });

/** Native coordination.k8s.io/v1 Leases, in the fields client-go leader election, klock and leaselocker use. */
export class KubeLeaseStore implements LeaseStore, Watchable<LeaseRecord> {
  readonly kind = 'Lease';
  readonly candidates: KubeCandidateStore;
  private readonly api: CoordinationV1Api;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    this.api = client.api(CoordinationV1Api);
    this.candidates = new KubeCandidateStore(client, namespace, this.kind, this.decode);
  }

  private site(verb: string, name?: string) {
    return { verb, resource: 'leases.coordination.k8s.io', name, namespace: this.namespace };
  }

  decode = (lease: V1Lease): LeaseRecord => {
    const meta = lease.metadata ?? {};
    const spec = lease.spec ?? {};
    const annotations = meta.annotations ?? {};
    const holding: LeaseHolding = {
      holder: spec.holderIdentity ?? '',
      durationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: isoTime(spec.acquireTime),
      renewTime: isoTime(spec.renewTime),
      transitions: spec.leaseTransitions ?? 0,
    };
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? this.namespace,
      version: meta.resourceVersion ?? '',
      ...identityOf(meta),
      holding,
      extras: decodeExtras(annotations),
      labels: meta.labels ?? {},
      createdAt: isoTime(meta.creationTimestamp),
      serverWrittenAtMost: lastWriteOf(meta.managedFields, ownsHolding),
      // Every spec field (holder, duration, times, transitions, preferredHolder, strategy): client-go
      // compares the whole record, so any change, of any field, is a renewal.
      claim: claimOf(spec),
      raw: { annotations, labels: meta.labels ?? {}, holding, uid: meta.uid } satisfies RawLease,
    };
  };

  async get(name: string): Promise<LeaseRecord | null> {
    try {
      return this.decode(await this.client.call(this.site('get', name), () => this.api.readNamespacedLease({ name, namespace: this.namespace })));
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') return null;
      throw err;
    }
  }

  /** Every lease (matching `selector`, kubectl's -l) but waiters' candidates (they show as their lease's waiters). */
  async list(allNamespaces = false, selector?: string): Promise<LeaseRecord[]> {
    const labelSelector = [`!${CANDIDATE_FOR_LABEL}`, selector].filter(Boolean).join(',');
    const list = await this.client.call({ ...this.site('list'), allNamespaces }, () =>
      allNamespaces ? this.api.listLeaseForAllNamespaces({ labelSelector }) : this.api.listNamespacedLease({ namespace: this.namespace, labelSelector }),
    );
    return list.items.map((item) => {
      try {
        return this.decode(item);
      } catch (err) {
        // One corrupt Lease must not hide the others: list it with defaults and the problem.
        return { ...this.decode({ ...item, metadata: { ...item.metadata, annotations: {} } }), problem: (err as Error).message };
      }
    });
  }

  async create(draft: LeaseDraft): Promise<LeaseRecord> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: draft.name,
        namespace: this.namespace,
        labels: { ...draft.labels, [MANAGED_BY_LABEL]: 'koncli' },
        annotations: encodeExtras(draft.extras),
      },
      spec: specPatch(undefined, draft.holding),
    };
    return this.decode(
      await this.client.call(this.site('create', draft.name), () =>
        this.api.createNamespacedLease({ namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      ),
    );
  }

  /** The claim: a merge patch of what changed in the spec, annotations and labels, guarded by resourceVersion. */
  async writeClaim(record: LeaseRecord): Promise<LeaseRecord> {
    const raw = record.raw as RawLease;
    const annotations = mapPatch(raw.annotations, encodeExtras(record.extras, raw.annotations, 'holder'));
    const labels = mapPatch(raw.labels, { ...raw.labels, ...record.labels });
    const spec = specPatch(raw.holding, record.holding);
    return this.patch(record.name, { metadata: { resourceVersion: record.version, annotations, labels }, spec }, FIELD_MANAGER);
  }

  private async patch(name: string, body: object, fieldManager: string): Promise<LeaseRecord> {
    return this.decode(
      await this.client.call(this.site('patch', name), () =>
        this.api.patchNamespacedLease({ name, namespace: this.namespace, body, fieldManager }, mergePatchOptions()),
      ),
    );
  }

  async delete(name: string, version: string): Promise<void> {
    await this.client.call(this.site('delete', name), () =>
      this.api.deleteNamespacedLease({ name, namespace: this.namespace, body: { preconditions: { resourceVersion: version } } }),
    );
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<LeaseRecord>): Promise<() => void> {
    return watchObject(
      this.client,
      {
        collectionPath: `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`,
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name,
        namespace: this.namespace,
      },
      fromVersion,
      this.decode,
      handlers,
      this.site('watch', name),
    );
  }

  /** Each request of `fn` bounded by `timeoutMs` (a ChangeFeed's liveness read: core/feed.ts). */
  withRequestTimeout<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R> {
    return this.client.withRequestTimeout(timeoutMs, fn);
  }

  recordEvent(record: LeaseRecord, reason: string, message: string): Promise<void> {
    return recordEvent(
      this.client,
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: record.name, namespace: this.namespace, uid: (record.raw as RawLease | undefined)?.uid },
      reason,
      message,
    );
  }
}

/** The Lease spec fields that differ from `before` (all of them for a new Lease), times as MicroTime. */
function specPatch(before: LeaseHolding | undefined, after: LeaseHolding): Record<string, unknown> {
  const micro = (iso?: string) => (iso === undefined ? undefined : microTime(Date.parse(iso)));
  const fields: Record<string, unknown> = {
    holderIdentity: after.holder,
    leaseDurationSeconds: after.durationSeconds,
    acquireTime: micro(after.acquireTime),
    renewTime: micro(after.renewTime),
    leaseTransitions: after.transitions,
  };
  const previous: Record<string, unknown> = before
    ? {
        holderIdentity: before.holder,
        leaseDurationSeconds: before.durationSeconds,
        acquireTime: micro(before.acquireTime),
        renewTime: micro(before.renewTime),
        leaseTransitions: before.transitions,
      }
    : {};
  return Object.fromEntries(Object.entries(fields).filter(([k, v]) => v !== undefined && v !== previous[k]));
}
