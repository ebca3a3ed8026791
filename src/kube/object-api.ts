import {
  ApisApi,
  CoreApi,
  HttpMethod,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1APIResourceList,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import type { DiscoveredResource, Discovery, GroupVersion, ResolvedResource } from './resource-resolver.js';

/** One object as a metadata-only list returns it. */
export interface PartialObjectMetadata {
  metadata?: V1ObjectMeta;
}

const apiVersionOf = (gv: GroupVersion) => (gv.group ? `${gv.group}/${gv.version}` : gv.version);

/**
 * client-node's KubernetesObjectApi (get/patch of any resource by apiVersion and kind), plus the
 * discovery calls the resource resolver needs. Its per-group-version resource cache is filled by
 * our own discovery, so reads and patches cost no extra request.
 */
export class DynamicObjectApi extends KubernetesObjectApi implements Discovery {
  private groups: Promise<{ name: string; versions: string[] }[]> | undefined;

  constructor(private readonly client: KubeClient) {
    super(client.configuration);
  }

  async groupVersions(group?: string): Promise<GroupVersion[]> {
    const out: GroupVersion[] = [];
    if (group === undefined || group === '') {
      const core = await this.client.call({ verb: 'get', resource: 'API discovery', name: '/api' }, () => this.client.api(CoreApi).getAPIVersions());
      out.push(...core.versions.map((version) => ({ group: '', version })));
    }
    if (group === '') return out;
    this.groups ??= this.client
      .call({ verb: 'get', resource: 'API discovery', name: '/apis' }, () => this.client.api(ApisApi).getAPIVersions())
      .then((list) =>
        list.groups.map((g) => {
          const preferred = g.preferredVersion?.version;
          const versions = g.versions.map((v) => v.version);
          return { name: g.name, versions: preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions };
        }),
      );
    for (const g of await this.groups) {
      if (group === undefined || g.name === group) out.push(...g.versions.map((version) => ({ group: g.name, version })));
    }
    return out;
  }

  async resources(gv: GroupVersion): Promise<DiscoveredResource[]> {
    const apiVersion = apiVersionOf(gv);
    const path = this.apiVersionPath(apiVersion);
    const list = await this.client.call({ verb: 'get', resource: 'API discovery', name: path }, () => {
      const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
      request.setHeaderParam('Accept', 'application/json');
      return this.requestPromise<V1APIResourceList & KubernetesObject>(request, 'V1APIResourceList');
    });
    const resources = list.resources.filter((r) => !r.name.includes('/'));
    // Subresources share their parent's kind; without them KubernetesObjectApi's kind lookup is unambiguous.
    this.apiVersionResourceCache[apiVersion] = { ...list, resources };
    return resources;
  }

  readObject(resource: ResolvedResource, name: string, namespace: string | undefined): Promise<KubernetesObject> {
    return this.read({ apiVersion: resource.apiVersion, kind: resource.kind, metadata: { name, namespace } });
  }

  /**
   * Every object of a resource type as PartialObjectMetadata (metadata only, as `kubectl get
   * --show-kind -o name` asks for): a namespace's, or with `namespace` undefined all of them.
   */
  async listMetadata(resource: ResolvedResource, namespace: string | undefined, labelSelector?: string): Promise<PartialObjectMetadata[]> {
    const root = collectionPath({ ...resource, namespaced: resource.namespaced && namespace !== undefined }, namespace);
    const request = this.configuration.baseServer.makeRequestContext(root, HttpMethod.GET);
    request.setHeaderParam('Accept', 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json');
    if (labelSelector) request.setQueryParam('labelSelector', labelSelector);
    const site = {
      verb: 'list',
      resource: resource.group ? `${resource.plural}.${resource.group}` : resource.plural,
      namespace,
      allNamespaces: namespace === undefined,
    };
    // Through client.call, so a refusal is a KoncliError (`forbidden`, one line), not client-node's raw exception.
    const list = await this.client.call(site, () =>
      this.requestPromise<KubernetesObject & { items?: PartialObjectMetadata[] }>(request, 'KubernetesListObject'),
    );
    return list.items ?? [];
  }

  mergePatchObject(
    resource: ResolvedResource,
    body: { metadata: { name: string; namespace?: string } & Record<string, unknown> },
    fieldManager: string,
  ): Promise<KubernetesObject> {
    return this.patch(
      { apiVersion: resource.apiVersion, kind: resource.kind, ...body },
      undefined,
      undefined,
      fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    );
  }
}

/** The URL path of a resource's collection, for watches. */
export function collectionPath(resource: ResolvedResource, namespace: string | undefined): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return `${root}${resource.namespaced ? `/namespaces/${namespace}` : ''}/${resource.plural}`;
}
