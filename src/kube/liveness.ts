import { CoreV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { judgeHolder, type LivenessLookup, type NodeFact, type PodFact } from '../core/status/liveness.js';
import type { JudgeLiveness } from '../core/status/model.js';
import type { KubeClient } from './client.js';

/** Reads that answer null for "no such object" and throw the KoncliError of anything else. */
async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if ((err as { kind?: string }).kind === 'not-found') return null;
    throw err;
  }
}

const podFact = (pod: V1Pod): PodFact => ({ name: pod.metadata?.name ?? '', phase: pod.status?.phase ?? '', terminating: !!pod.metadata?.deletionTimestamp });

const nodeFact = (node: V1Node): NodeFact => ({
  name: node.metadata?.name ?? '',
  ready: node.status?.conditions?.find((c) => c.type === 'Ready')?.status,
});

/** Pods and Nodes read through client-node, each at most once per run (many locks share a holder). */
export class KubeLivenessLookup implements LivenessLookup {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly api: CoreV1Api;

  constructor(private readonly client: KubeClient) {
    this.api = client.api(CoreV1Api);
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let got = this.cache.get(key) as Promise<T> | undefined;
    if (!got) this.cache.set(key, (got = read()));
    return got;
  }

  pod(namespace: string, name: string): Promise<PodFact | null> {
    return this.once(`pod/${namespace}/${name}`, () =>
      orNull(() => this.client.call({ verb: 'get', resource: 'pods', name, namespace }, () => this.api.readNamespacedPod({ name, namespace }))).then(
        (p) => p && podFact(p),
      ),
    );
  }

  podsNamed(name: string): Promise<PodFact[]> {
    return this.once(`pods/${name}`, async () => {
      const list = await this.client.call({ verb: 'list', resource: 'pods' }, () =>
        this.api.listPodForAllNamespaces({ fieldSelector: `metadata.name=${name}` }),
      );
      return list.items.map((p) => ({ ...podFact(p), namespace: p.metadata?.namespace }));
    });
  }

  node(name: string): Promise<NodeFact | null> {
    return this.once(`node/${name}`, () =>
      orNull(() => this.client.call({ verb: 'get', resource: 'nodes', name }, () => this.api.readNode({ name }))).then((n) => n && nodeFact(n)),
    );
  }
}

/** judgeHolder against the cluster, with the lookups shared by every call. */
export function livenessJudge(client: KubeClient): JudgeLiveness {
  const lookup = new KubeLivenessLookup(client);
  return (identity, namespace) => judgeHolder(identity, namespace, lookup);
}
