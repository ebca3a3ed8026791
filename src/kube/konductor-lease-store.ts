import { CustomObjectsApi } from '@kubernetes/client-node';
import { isKind } from '../core/errors.js';
import { retryOnConflict } from '../core/retry.js';
import { encodeExtras } from '../core/lease/annotations.js';
import type { LeaseDraft, LeaseRecord, LeaseStore, WaiterQueue } from '../core/lease/model.js';
import { withoutWaiter } from '../core/lease/queue.js';
import type { WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, QUEUE_FIELD_MANAGER, type KubeClient } from './client.js';
import { recordEvent } from './events.js';
import {
  decodeForListing,
  decodeKonductorLease,
  KONDUCTOR_LEASE,
  queueOf,
  resourceTypeMissing,
  specChange,
  specForDraft,
  statusFor,
  type RawKonductorLease,
} from './konductor-lease.js';
import { KubeCandidateStore } from './lease-candidates.js';
import { KubeLeaseStore, MANAGED_BY_LABEL } from './lease-store.js';
import { mapPatch, mergePatchOptions } from './patch.js';
import { watchObject } from './watch-object.js';

const { group, version, plural } = KONDUCTOR_LEASE;

/**
 * One list of a custom resource type: `namespace`'s objects, or every namespace's when undefined,
 * narrowed by `labelSelector`; the items as the unknown JSON they are (client-node types them `any`).
 */
export async function listCustomObjects(
  api: CustomObjectsApi,
  type: { group: string; version: string; plural: string },
  namespace: string | undefined,
  labelSelector?: string,
): Promise<unknown[]> {
  const { group, version, plural } = type;
  const list: unknown =
    namespace === undefined
      ? await api.listClusterCustomObject({ group, version, plural, labelSelector })
      : await api.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector });
  return (list as { items?: unknown[] } | undefined)?.items ?? [];
}

/** After taking a lease, how many times to retry taking ourselves out of its waiter queue. */
const QUEUE_CLEANUP_ATTEMPTS = 5;

const waiterIds = (queue: WaiterQueue) => new Set(queue.waiters.map((w) => w.id));

/**
 * konductor.io/v1 Leases (config/crd/konductor.io_leases.yaml). The holder's claim lives in
 * `status`, written through the status subresource; spec.ttl is the lease's duration; waiters are
 * candidates (native Leases, ./lease-candidates.ts), and the legacy waiter queue older koncli wrote
 * is koncli's annotation on the object. Every write is a merge patch guarded by resourceVersion.
 */
export class KonductorLeaseStore implements LeaseStore {
  readonly kind = 'Lease.konductor.io';
  /** Waiters' candidates: native Leases in the same namespace, labelled with this kind (lease-candidates.ts). */
  readonly candidates: KubeCandidateStore;
  private readonly api: CustomObjectsApi;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    this.api = client.api(CustomObjectsApi);
    this.candidates = new KubeCandidateStore(client, namespace, this.kind, new KubeLeaseStore(client, namespace).decode);
  }

  private call<T>(
    verb: string,
    name: string | undefined,
    fn: () => Promise<T>,
    resource: string = KONDUCTOR_LEASE.resource,
    allNamespaces = false,
  ): Promise<T> {
    const site = { verb, resource, name, namespace: this.namespace, allNamespaces };
    return this.client.call(site, () =>
      fn().catch((err) => {
        throw resourceTypeMissing(err) ?? err;
      }),
    );
  }

  private ref(name: string) {
    return { group, version, plural, namespace: this.namespace, name };
  }

  decode = (obj: unknown): LeaseRecord => decodeKonductorLease(obj, this.namespace);

  async get(name: string): Promise<LeaseRecord | null> {
    try {
      return this.decode(await this.call('get', name, () => this.api.getNamespacedCustomObject(this.ref(name))));
    } catch (err) {
      if (isKind(err, 'not-found') && err.details.installed !== false) return null;
      throw err;
    }
  }

  async list(allNamespaces = false, labelSelector?: string): Promise<LeaseRecord[]> {
    // client-node types a custom object list as `any`: read it as the unknown JSON it is.
    const items = await this.call(
      'list',
      undefined,
      () => listCustomObjects(this.api, KONDUCTOR_LEASE, allNamespaces ? undefined : this.namespace, labelSelector),
      KONDUCTOR_LEASE.resource,
      allNamespaces,
    );
    return items.map((item) => decodeForListing(item, this.namespace));
  }

  /** Creates the Lease (spec from the draft), then claims it through the status subresource. */
  async create(draft: LeaseDraft): Promise<LeaseRecord> {
    const body = {
      apiVersion: KONDUCTOR_LEASE.apiVersion,
      kind: KONDUCTOR_LEASE.kind,
      metadata: {
        name: draft.name,
        namespace: this.namespace,
        labels: { ...draft.labels, [MANAGED_BY_LABEL]: 'koncli' },
        annotations: encodeExtras(draft.extras, {}, 'queue'),
      },
      spec: specForDraft(draft),
    };
    const created = this.decode(
      await this.call('create', draft.name, () =>
        this.api.createNamespacedCustomObject({ group, version, plural, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      ),
    );
    // The server drops status on create; until this write lands the Lease is free for anyone to take.
    return this.writeStatus({ ...created, holding: draft.holding, extras: { ...created.extras, reason: draft.extras.reason } });
  }

  /**
   * The holder's write, in up to three requests: (1) the spec's ttl and the labels, when they
   * change; (2) the claim, through the status subresource; (3) the waiters the claim took out of
   * the queue (the new holder), which a status write cannot touch.
   */
  async writeClaim(record: LeaseRecord): Promise<LeaseRecord> {
    const withSpec = await this.writeSpec(record);
    const claimed = await this.writeStatus(withSpec);
    const kept = waiterIds(record.extras.queue);
    const dropped = [...waiterIds(queueOf((record.raw as RawKonductorLease).annotations))].filter((id) => !kept.has(id));
    return dropped.length > 0 ? this.dropWaiters(claimed, dropped) : claimed;
  }

  /** The legacy waiter queue: koncli's annotation on the object, as the queue's field manager, guarded by resourceVersion. */
  private async writeQueue(record: LeaseRecord, queue: WaiterQueue): Promise<LeaseRecord> {
    const raw = record.raw as RawKonductorLease;
    const annotations = mapPatch(raw.annotations, encodeExtras({ ...record.extras, queue }, raw.annotations, 'queue'));
    return this.patchMain(record.name, { metadata: { resourceVersion: record.version, annotations } }, QUEUE_FIELD_MANAGER);
  }

  async delete(name: string, resourceVersion: string): Promise<void> {
    await this.call('delete', name, () => this.api.deleteNamespacedCustomObject({ ...this.ref(name), body: { preconditions: { resourceVersion } } }));
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<LeaseRecord>): Promise<() => void> {
    const { apiVersion, kind } = KONDUCTOR_LEASE;
    const target = { collectionPath: `/apis/${group}/${version}/namespaces/${this.namespace}/${plural}`, apiVersion, kind, name, namespace: this.namespace };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, {
      verb: 'watch',
      resource: KONDUCTOR_LEASE.resource,
      name,
      namespace: this.namespace,
    });
  }

  /** Each request of `fn` bounded by `timeoutMs` (a ChangeFeed's liveness read: core/feed.ts). */
  withRequestTimeout<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R> {
    return this.client.withRequestTimeout(timeoutMs, fn);
  }

  recordEvent(record: LeaseRecord, reason: string, message: string): Promise<void> {
    const uid = (record.raw as RawKonductorLease | undefined)?.uid;
    return recordEvent(
      this.client,
      { apiVersion: KONDUCTOR_LEASE.apiVersion, kind: KONDUCTOR_LEASE.kind, name: record.name, namespace: this.namespace, uid },
      reason,
      message,
    );
  }

  /**
   * Step 1 of a claim: the spec's ttl (when the holder asked for another) and the labels, before the
   * status, so that if the claim then loses a race the lease is merely free with a new ttl. Returns
   * `record` at the version written (unchanged when there is nothing to write).
   */
  private async writeSpec(record: LeaseRecord): Promise<LeaseRecord> {
    const raw = record.raw as RawKonductorLease;
    const spec = specChange(record, raw.spec);
    const labels = mapPatch(raw.labels, { ...raw.labels, ...record.labels });
    if (!spec && Object.keys(labels).length === 0) return record;
    const written = await this.patchMain(record.name, { metadata: { resourceVersion: record.version, labels }, spec }, FIELD_MANAGER);
    return { ...record, version: written.version, raw: written.raw };
  }

  /** Step 2 of a claim: a status-subresource merge patch guarded by the record's resourceVersion. */
  private async writeStatus(record: LeaseRecord): Promise<LeaseRecord> {
    const raw = record.raw as RawKonductorLease;
    const body = { metadata: { resourceVersion: record.version }, status: statusFor(record, raw.status, this.client.clock.wallNow()) };
    return this.decode(
      await this.call(
        'patch',
        record.name,
        () => this.api.patchNamespacedCustomObjectStatus({ ...this.ref(record.name), body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
        `${KONDUCTOR_LEASE.resource}/status`,
      ),
    );
  }

  private async patchMain(name: string, body: object, fieldManager: string): Promise<LeaseRecord> {
    return this.decode(
      await this.call('patch', name, () => this.api.patchNamespacedCustomObject({ ...this.ref(name), body, fieldManager }, mergePatchOptions())),
    );
  }

  /**
   * Step 3 of a claim: takes waiters (the new holder) out of the queue after the claim, which a status write cannot
   * do. Best effort: re-read on conflict; an entry left behind goes stale and is dropped by others.
   */
  private async dropWaiters(claimed: LeaseRecord, ids: string[]): Promise<LeaseRecord> {
    let latest = claimed;
    const clock = this.client.clock;
    // One try per read, no waiting out failures: the claim already succeeded.
    return retryOnConflict({ clock, deadline: clock.now(), maxConflicts: QUEUE_CLEANUP_ATTEMPTS }, async (n) => {
      if (n > 0) {
        const fresh = await this.get(claimed.name).catch(() => null);
        if (!fresh || fresh.holding.holder !== claimed.holding.holder) return latest;
        latest = fresh;
      }
      const queue = ids.reduce(withoutWaiter, latest.extras.queue);
      if (queue.waiters.length === latest.extras.queue.waiters.length) return latest;
      return this.writeQueue(latest, queue);
    }).catch(() => latest);
  }
}
