import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { PRIMITIVE_LABEL, recordAnnotation, type RecordObject, type RecordStore } from '../core/claim/model.js';
import { isKind } from '../core/errors.js';
import type { WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { recordEvent } from './events.js';
import { MANAGED_BY_LABEL } from './lease-store.js';
import { identityOf, isoTime, mergePatchOptions } from './patch.js';
import { lastWriteOf, watchObject } from './watch-object.js';

/**
 * A primitive's ConfigMap as a RecordObject, its record read from `annotation`, with the server's
 * time of that annotation's last write from the managedFields entries owning it (as a kubelock's:
 * kube/kubelock-store.ts).
 */
export function recordObjectOf(cm: V1ConfigMap, annotation: string, namespace: string): RecordObject {
  const meta = cm.metadata ?? {};
  const writtenAtMost = lastWriteOf(meta.managedFields, (fields) => !!fields['f:metadata']?.['f:annotations']?.[`f:${annotation}`]);
  return {
    name: meta.name ?? '',
    namespace: meta.namespace ?? namespace,
    version: meta.resourceVersion ?? '',
    record: meta.annotations?.[annotation],
    labelledKind: meta.labels?.[PRIMITIVE_LABEL],
    ...(writtenAtMost !== undefined && { writtenAtMost }),
    ...identityOf(meta),
  };
}

/**
 * Every koncli primitive of any kind (the ConfigMaps labelled `koncli.dev/primitive`, whatever its
 * value) in `namespace`, or in all namespaces when undefined, each with the record of the kind it is
 * labelled as and its creation time: what `koncli status` lists. `labelSelector` (`-l`) narrows it,
 * `kind` keeps one kind.
 */
export async function listPrimitives(
  client: KubeClient,
  namespace: string | undefined,
  labelSelector?: string,
  kind?: string,
): Promise<(RecordObject & { createdAt?: string })[]> {
  const api = client.api(CoreV1Api);
  const selector = [kind ? `${PRIMITIVE_LABEL}=${kind}` : PRIMITIVE_LABEL, ...(labelSelector ? [labelSelector] : [])].join(',');
  const list = await client.call({ verb: 'list', resource: 'configmaps', namespace }, () =>
    namespace === undefined
      ? api.listConfigMapForAllNamespaces({ labelSelector: selector })
      : api.listNamespacedConfigMap({ namespace, labelSelector: selector }),
  );
  return list.items.map((cm) => ({
    ...recordObjectOf(cm, recordAnnotation(cm.metadata?.labels?.[PRIMITIVE_LABEL] ?? ''), namespace ?? ''),
    createdAt: isoTime(cm.metadata?.creationTimestamp),
  }));
}

/**
 * The default storage of koncli's primitives (docs/formats.md): a ConfigMap named after the
 * primitive, labelled `koncli.dev/primitive=<kind>`, its record in the annotation
 * `koncli.dev/<kind>`. Writes touch that annotation only (merge patch with resourceVersion); a
 * namespaced Role on configmaps suffices.
 */
/** What a store's `list` covers (a kind's `list -A -l`): every namespace or its own, narrowed by a label selector. */
export interface RecordListing {
  allNamespaces?: boolean;
  labelSelector?: string;
}

export class ConfigMapRecordStore implements RecordStore {
  private readonly api: CoreV1Api;
  private readonly annotation: string;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    private readonly kind: string,
    private readonly listing: RecordListing = {},
  ) {
    this.api = client.api(CoreV1Api);
    this.annotation = recordAnnotation(kind);
  }

  private site(verb: string, name?: string) {
    return { verb, resource: 'configmaps', name, namespace: this.namespace };
  }

  decode = (cm: V1ConfigMap): RecordObject => recordObjectOf(cm, this.annotation, this.namespace);

  async get(name: string): Promise<RecordObject | null> {
    try {
      return this.decode(await this.client.call(this.site('get', name), () => this.api.readNamespacedConfigMap({ name, namespace: this.namespace })));
    } catch (err) {
      if (isKind(err, 'not-found')) return null;
      throw err;
    }
  }

  /** The kind's objects in the store's namespace, or as `listing` says; each names its own namespace. */
  list(): Promise<RecordObject[]> {
    return listPrimitives(this.client, this.listing.allNamespaces ? undefined : this.namespace, this.listing.labelSelector, this.kind);
  }

  async create(name: string, record: string): Promise<RecordObject> {
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [MANAGED_BY_LABEL]: 'koncli', [PRIMITIVE_LABEL]: this.kind },
        annotations: { [this.annotation]: record },
      },
    };
    return this.decode(
      await this.client.call(this.site('create', name), () =>
        this.api.createNamespacedConfigMap({ namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      ),
    );
  }

  async write(obj: RecordObject, record: string): Promise<RecordObject> {
    const body = { metadata: { resourceVersion: obj.version, annotations: { [this.annotation]: record } } };
    return this.decode(
      await this.client.call(this.site('patch', obj.name), () =>
        this.api.patchNamespacedConfigMap({ name: obj.name, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
      ),
    );
  }

  async delete(obj: RecordObject): Promise<void> {
    await this.client.call(this.site('delete', obj.name), () =>
      this.api.deleteNamespacedConfigMap({ name: obj.name, namespace: this.namespace, body: { preconditions: { resourceVersion: obj.version } } }),
    );
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<RecordObject>): Promise<() => void> {
    const target = { collectionPath: `/api/v1/namespaces/${this.namespace}/configmaps`, apiVersion: 'v1', kind: 'ConfigMap', name, namespace: this.namespace };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, this.site('watch', name));
  }

  recordEvent(obj: RecordObject, reason: string, message: string): Promise<void> {
    return recordEvent(this.client, { apiVersion: 'v1', kind: 'ConfigMap', name: obj.name, namespace: this.namespace, uid: obj.uid }, reason, message);
  }
}
