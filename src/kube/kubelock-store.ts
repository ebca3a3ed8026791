import type { KubernetesObject } from '@kubernetes/client-node';
import type { AnnotatedObject, KubelockStore } from '../core/kubelock/model.js';
import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { recordEvent } from './events.js';
import { collectionPath, type DynamicObjectApi } from './object-api.js';
import { identityOf } from './patch.js';
import { resourceDisplayName, type ResolvedResource } from './resource-resolver.js';
import { lastWriteOf, watchObject, type ManagedFieldsEntry } from './watch-object.js';

/** Field managers may be at most 128 characters. */
const MAX_FIELD_MANAGER = 128;

/** Per annotation: the server's time of its last write, from the managedFields entries owning it. */
function annotationWriteTimes(managedFields: ManagedFieldsEntry[] | undefined, annotations: Record<string, string>): Record<string, number> {
  const times: Record<string, number> = {};
  for (const key of Object.keys(annotations)) {
    const t = lastWriteOf(managedFields, (fields) => !!fields['f:metadata']?.['f:annotations']?.[`f:${key}`]);
    if (t !== undefined) times[key] = t;
  }
  return times;
}

/**
 * Annotations of objects of any resource type (resolved by discovery), read and written through
 * client-node's generic object API: each write a JSON merge patch of one annotation, carrying
 * the resourceVersion it was decided on.
 */
export class ObjectKubelockStore implements KubelockStore {
  readonly displayName: string;

  constructor(
    private readonly client: KubeClient,
    private readonly api: DynamicObjectApi,
    readonly resource: ResolvedResource,
    /** Undefined for cluster-scoped resources. */
    readonly namespace: string | undefined,
  ) {
    this.displayName = resourceDisplayName(resource);
  }

  describe(name: string): string {
    return `${this.displayName}/${name}${this.namespace ? ` in namespace ${this.namespace}` : ''}`;
  }

  private site(verb: string, name: string) {
    return { verb, resource: this.displayName, name, namespace: this.namespace };
  }

  decode = (obj: KubernetesObject | null | undefined): AnnotatedObject => {
    const meta = obj?.metadata ?? {};
    const annotations = meta.annotations ?? {};
    return {
      name: meta.name ?? '',
      ...identityOf(meta),
      version: meta.resourceVersion ?? '',
      annotations,
      writtenAtMost: annotationWriteTimes(meta.managedFields, annotations),
    };
  };

  async get(name: string): Promise<AnnotatedObject | null> {
    try {
      return this.decode(await this.client.call(this.site('get', name), () => this.api.readObject(this.resource, name, this.namespace)));
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') return null;
      throw err;
    }
  }

  async setAnnotation(name: string, version: string, key: string, value: string | null, writer: string): Promise<AnnotatedObject> {
    const metadata = { name, ...(this.namespace ? { namespace: this.namespace } : {}), resourceVersion: version, annotations: { [key]: value } };
    const fieldManager = `koncli-${writer}`.slice(0, MAX_FIELD_MANAGER);
    return this.decode(await this.client.call(this.site('patch', name), () => this.api.mergePatchObject(this.resource, { metadata }, fieldManager)));
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<AnnotatedObject>): Promise<() => void> {
    const { apiVersion, kind, namespaced } = this.resource;
    const target = {
      collectionPath: collectionPath(this.resource, this.namespace),
      apiVersion,
      kind,
      name,
      namespace: namespaced ? this.namespace : undefined,
    };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, this.site('watch', name));
  }

  /** Each request of `fn` bounded by `timeoutMs` (a ChangeFeed's liveness read: core/feed.ts). */
  withRequestTimeout<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R> {
    return this.client.withRequestTimeout(timeoutMs, fn);
  }

  recordEvent(obj: AnnotatedObject, reason: string, message: string): Promise<void> {
    const { apiVersion, kind } = this.resource;
    return recordEvent(this.client, { apiVersion, kind, name: obj.name, namespace: this.namespace, uid: obj.uid }, reason, message);
  }
}
