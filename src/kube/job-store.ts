import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import type { JobObject } from '../core/primitives/gate-judge.js';
import { isKind } from '../core/errors.js';
import type { Watchable, WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { identityOf } from './patch.js';
import { watchObject } from './watch-object.js';

/** batch/v1 Jobs of one namespace, read and watched for gate conditions (read only: get, watch). */
export class KubeJobStore implements Watchable<JobObject> {
  private readonly api: BatchV1Api;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    this.api = client.api(BatchV1Api);
  }

  private site(verb: string, name?: string) {
    return { verb, resource: 'jobs.batch', name, namespace: this.namespace };
  }

  decode = (job: V1Job): JobObject => {
    const meta = job.metadata ?? {};
    const condition = (type: string) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? this.namespace,
      version: meta.resourceVersion ?? '',
      succeeded: job.status?.succeeded ?? 0,
      complete: condition('Complete'),
      failed: condition('Failed'),
      ...identityOf(meta),
    };
  };

  async get(name: string): Promise<JobObject | null> {
    try {
      return this.decode(await this.client.call(this.site('get', name), () => this.api.readNamespacedJob({ name, namespace: this.namespace })));
    } catch (err) {
      if (isKind(err, 'not-found')) return null;
      throw err;
    }
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<JobObject>): Promise<() => void> {
    const target = { collectionPath: `/apis/batch/v1/namespaces/${this.namespace}/jobs`, apiVersion: 'batch/v1', kind: 'Job', name, namespace: this.namespace };
    return watchObject(this.client, target, fromVersion, this.decode, handlers, this.site('watch', name));
  }
}
