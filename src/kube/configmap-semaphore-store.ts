import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { PRIMITIVE_LABEL } from '../core/claim/model.js';
import { isKind } from '../core/errors.js';
import { SEMAPHORE_ANNOTATION, type SemaphoreObject, type SemaphoreStore } from '../core/semaphore/model.js';
import type { WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { recordEvent } from './events.js';
import { MANAGED_BY_LABEL } from './lease-store.js';
import { identityOf, isoTime, mergePatchOptions } from './patch.js';
import { watchObject } from './watch-object.js';

/**
 * kube-lock semaphores: the `kube-lock` annotation of a ConfigMap named after the semaphore.
 * Writes touch that one annotation only, so other annotations and `data` stay byte for byte.
 */
export class ConfigMapSemaphoreStore implements SemaphoreStore {
  private readonly api: CoreV1Api;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    this.api = client.api(CoreV1Api);
  }

  private site(verb: string, name?: string) {
    return { verb, resource: 'configmaps', name, namespace: this.namespace };
  }

  decode = (cm: V1ConfigMap): SemaphoreObject => {
    const meta = cm.metadata ?? {};
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? this.namespace,
      version: meta.resourceVersion ?? '',
      annotation: meta.annotations?.[SEMAPHORE_ANNOTATION],
      createdAt: isoTime(meta.creationTimestamp),
      createdByKoncli: meta.labels?.[MANAGED_BY_LABEL] === 'koncli',
      labelledKind: meta.labels?.[PRIMITIVE_LABEL],
      ...identityOf(meta),
    };
  };

  async get(name: string): Promise<SemaphoreObject | null> {
    try {
      return this.decode(await this.client.call(this.site('get', name), () => this.api.readNamespacedConfigMap({ name, namespace: this.namespace })));
    } catch (err) {
      if (isKind(err, 'not-found')) return null;
      throw err;
    }
  }

  async list(allNamespaces = false, labelSelector?: string): Promise<SemaphoreObject[]> {
    const list = await this.client.call({ ...this.site('list'), allNamespaces }, () =>
      allNamespaces
        ? this.api.listConfigMapForAllNamespaces({ labelSelector })
        : this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector }),
    );
    return list.items.map(this.decode).filter((o) => o.annotation !== undefined);
  }

  async create(name: string, annotation: string): Promise<SemaphoreObject> {
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: this.namespace, labels: { [MANAGED_BY_LABEL]: 'koncli' }, annotations: { [SEMAPHORE_ANNOTATION]: annotation } },
    };
    return this.decode(
      await this.client.call(this.site('create', name), () =>
        this.api.createNamespacedConfigMap({ namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      ),
    );
  }

  async write(obj: SemaphoreObject, annotation: string): Promise<SemaphoreObject> {
    const body = { metadata: { resourceVersion: obj.version, annotations: { [SEMAPHORE_ANNOTATION]: annotation } } };
    return this.decode(
      await this.client.call(this.site('patch', obj.name), () =>
        this.api.patchNamespacedConfigMap({ name: obj.name, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
      ),
    );
  }

  async delete(obj: SemaphoreObject): Promise<void> {
    await this.client.call(this.site('delete', obj.name), () =>
      this.api.deleteNamespacedConfigMap({ name: obj.name, namespace: this.namespace, body: { preconditions: { resourceVersion: obj.version } } }),
    );
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<SemaphoreObject>): Promise<() => void> {
    const target = { collectionPath: `/api/v1/namespaces/${this.namespace}/configmaps`, apiVersion: 'v1', kind: 'ConfigMap', name, namespace: this.namespace };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, this.site('watch', name));
  }

  /** Each request of `fn` bounded by `timeoutMs` (a ChangeFeed's liveness read: core/feed.ts). */
  withRequestTimeout<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R> {
    return this.client.withRequestTimeout(timeoutMs, fn);
  }

  recordEvent(obj: SemaphoreObject, reason: string, message: string): Promise<void> {
    return recordEvent(this.client, { apiVersion: 'v1', kind: 'ConfigMap', name: obj.name, namespace: this.namespace, uid: obj.uid }, reason, message);
  }
}
