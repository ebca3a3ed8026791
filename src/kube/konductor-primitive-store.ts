import { CustomObjectsApi } from '@kubernetes/client-node';
import type { RecordObject, RecordStore } from '../core/claim/model.js';
import { isKind, KoncliError } from '../core/errors.js';
import type { WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { recordEvent } from './events.js';
import { absent, ownsHolder, Reader, resourceTypeMissing, stanza, text, type Obj } from './konductor-lease.js';
import { listCustomObjects } from './konductor-lease-store.js';
import type { KonductorShape } from './konductor-primitive.js';
import { MANAGED_BY_LABEL } from './lease-store.js';
import { identityOf, isoTime, mergePatchOptions } from './patch.js';
import type { RecordListing } from './primitive-store.js';
import { lastWriteOf, watchObject, type ManagedFieldsEntry } from './watch-object.js';

/** The object as read, kept on its RecordObject so that a write changes only what the record does. */
interface Source {
  spec: Obj;
  status: Obj;
}

/**
 * konductor.io/v1 primitives (Mutex, Once, RWMutex, Barrier, WaitGroup, Gate: config/crd/konductor.io_*.yaml) as the claim engine's
 * RecordStore, without konductor's operator. The shape (./konductor-primitive.ts) maps the object to
 * the engine's record and back. A claim is one status-subresource merge patch guarded by
 * resourceVersion (the spec is written only when `create` sets a TTL, before the status, as the
 * konductor Lease store does). Objects whose fields cannot be read carry the `corrupt` error, which
 * every verb raises before writing.
 */
export class KonductorRecordStore implements RecordStore {
  private readonly api: CustomObjectsApi;
  readonly objectType: string;

  constructor(
    protected readonly client: KubeClient,
    readonly namespace: string,
    private readonly shape: KonductorShape,
    private readonly listing: RecordListing = {},
  ) {
    this.api = client.api(CustomObjectsApi);
    this.objectType = shape.type.resource;
  }

  private call<T>(verb: string, name: string | undefined, fn: () => Promise<T>, subresource = '', allNamespaces = false): Promise<T> {
    const site = { verb, resource: this.shape.type.resource + subresource, name, namespace: this.namespace, allNamespaces };
    return this.client.call(site, () =>
      fn().catch((err) => {
        throw resourceTypeMissing(err, this.shape.type) ?? err;
      }),
    );
  }

  private ref(name: string) {
    const { group, version, plural } = this.shape.type;
    return { group, version, plural, namespace: this.namespace, name };
  }

  decode = (obj: unknown): RecordObject => {
    const meta = stanza(obj, 'metadata');
    const name = text(meta.name);
    const namespace = text(meta.namespace, this.namespace);
    // The claims are in the status: the server's time of its last write bounds theirs (as a konductor Lease's).
    const writtenAtMost = lastWriteOf(Array.isArray(meta.managedFields) ? (meta.managedFields as ManagedFieldsEntry[]) : undefined, ownsHolder);
    const base = {
      name,
      namespace,
      version: text(meta.resourceVersion),
      labelledKind: this.shape.kind,
      ...(writtenAtMost !== undefined && { writtenAtMost }),
      ...identityOf(meta),
    };
    const source: Source = { spec: stanza(obj, 'spec'), status: stanza(obj, 'status') };
    try {
      return { ...base, record: this.shape.toRecord(obj, new Reader(name, namespace, this.shape.type)), source };
    } catch (err) {
      if (!(err instanceof KoncliError)) throw err;
      return { ...base, record: '', unreadable: err, source };
    }
  };

  async get(name: string): Promise<RecordObject | null> {
    try {
      return this.decode(await this.call('get', name, () => this.api.getNamespacedCustomObject(this.ref(name))));
    } catch (err) {
      if (isKind(err, 'not-found') && err.details.installed !== false) return null;
      throw err;
    }
  }

  /**
   * The kind's objects in the store's namespace, or as `listing` says (-A: one cluster-wide list;
   * -l: the label selector), each with its creation time (what `koncli status` shows as AGE) and its
   * metadata as listed (kubelock annotations on it: cli/lock-listers.ts).
   * `not-found` with details.installed false when the CRD is not installed; `forbidden` as RBAC says.
   */
  async list(): Promise<(RecordObject & { createdAt?: string; metadata: Obj })[]> {
    const { allNamespaces = false, labelSelector } = this.listing;
    const namespace = allNamespaces ? undefined : this.namespace;
    const items = await this.call('list', undefined, () => listCustomObjects(this.api, this.shape.type, namespace, labelSelector), '', allNamespaces);
    return items.map((item) => ({ ...this.decode(item), createdAt: isoTime(stanza(item, 'metadata').creationTimestamp), metadata: stanza(item, 'metadata') }));
  }

  /** Creates the object (its spec), then writes the record's status: the server drops status on create. */
  async create(name: string, record: string): Promise<RecordObject> {
    const { spec } = this.shape.toObject(record, { spec: {}, status: {} });
    const { apiVersion, kind, group, version, plural } = this.shape.type;
    const body = {
      apiVersion,
      kind,
      metadata: { name, namespace: this.namespace, labels: { [MANAGED_BY_LABEL]: 'koncli' } },
      spec: Object.fromEntries(Object.entries(spec ?? {}).filter(([, v]) => !absent(v))),
    };
    const created = this.decode(
      await this.call('create', name, () =>
        this.api.createNamespacedCustomObject({ group, version, plural, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      ),
    );
    return this.write(created, record);
  }

  async write(obj: RecordObject, record: string): Promise<RecordObject> {
    const source = obj.source as Source;
    const { spec, status } = this.shape.toObject(record, source);
    let version = obj.version;
    if (spec) {
      const body = { metadata: { resourceVersion: version }, spec };
      const written: unknown = await this.call('patch', obj.name, () =>
        this.api.patchNamespacedCustomObject({ ...this.ref(obj.name), body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
      );
      version = this.decode(written).version;
    }
    const body = { metadata: { resourceVersion: version }, status };
    return this.decode(
      await this.call(
        'patch',
        obj.name,
        () => this.api.patchNamespacedCustomObjectStatus({ ...this.ref(obj.name), body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
        '/status',
      ),
    );
  }

  async delete(obj: RecordObject): Promise<void> {
    await this.call('delete', obj.name, () =>
      this.api.deleteNamespacedCustomObject({ ...this.ref(obj.name), body: { preconditions: { resourceVersion: obj.version } } }),
    );
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<RecordObject>): Promise<() => void> {
    const { group, version, plural, apiVersion, kind, resource } = this.shape.type;
    const target = { collectionPath: `/apis/${group}/${version}/namespaces/${this.namespace}/${plural}`, apiVersion, kind, name, namespace: this.namespace };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, { verb: 'watch', resource, name, namespace: this.namespace });
  }

  recordEvent(obj: RecordObject, reason: string, message: string): Promise<void> {
    const { apiVersion, kind } = this.shape.type;
    return recordEvent(this.client, { apiVersion, kind, name: obj.name, namespace: this.namespace, uid: obj.uid }, reason, message);
  }
}
