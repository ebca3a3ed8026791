import { ApiextensionsV1Api, loadYaml, type V1CustomResourceDefinition, type V1CustomResourceDefinitionCondition } from '@kubernetes/client-node';
import { ChangeFeed } from '../core/feed.js';
import { isKind, KoncliError } from '../core/errors.js';
import { retryOnConflict } from '../core/retry.js';
import { watchUntilDecided } from '../core/wait.js';
import type { Versioned, Watchable, WatchHandlers } from '../core/store.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { mergePatchOptions } from './patch.js';
import { watchObject } from './watch-object.js';

const RESOURCE = 'customresourcedefinitions.apiextensions.k8s.io';
const COLLECTION = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const MAX_CONFLICTS = 10;

export interface CrdManifest {
  /** The manifest as sent to the typed API (client-node model). */
  typed: V1CustomResourceDefinition;
  /** The same manifest as plain JSON, for a merge patch. */
  json: { metadata: { name: string }; spec: object };
}

/** The typed client-node model of a CRD manifest's YAML (its `json` half is parsed by the caller). */
export const typedCrd = (yamlText: string) => loadYaml<V1CustomResourceDefinition>(yamlText);

export interface CrdState extends Versioned {
  established: boolean;
  /** Why the server refuses the names (NamesAccepted=False), if it does. */
  rejected?: string;
}

export interface CrdInstallResult {
  name: string;
  outcome: 'created' | 'updated' | 'unchanged';
  resourceVersion: string;
  established: boolean;
  waitedMs: number;
}

const condition = (conditions: V1CustomResourceDefinitionCondition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

function stateOf(crd: V1CustomResourceDefinition): CrdState {
  const names = condition(crd.status?.conditions, 'NamesAccepted');
  return {
    version: crd.metadata?.resourceVersion ?? '',
    established: condition(crd.status?.conditions, 'Established')?.status === 'True',
    rejected: names?.status === 'False' ? (names.message ?? names.reason ?? 'names not accepted') : undefined,
  };
}

/** One CustomResourceDefinition, read and watched by name. */
class CrdStore implements Watchable<CrdState> {
  readonly api: ApiextensionsV1Api;

  constructor(private readonly client: KubeClient) {
    this.api = client.api(ApiextensionsV1Api);
  }

  site = (verb: string, name: string) => ({ verb, resource: RESOURCE, name });

  async read(name: string): Promise<V1CustomResourceDefinition | null> {
    try {
      return await this.client.call(this.site('get', name), () => this.api.readCustomResourceDefinition({ name }));
    } catch (err) {
      if (isKind(err, 'not-found')) return null;
      throw err;
    }
  }

  async get(name: string): Promise<CrdState | null> {
    const crd = await this.read(name);
    return crd && stateOf(crd);
  }

  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<CrdState>): Promise<() => void> {
    const target = { collectionPath: COLLECTION, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name };
    return watchObject(this.client, target, fromVersion, stateOf, handlers, this.site('watch', name));
  }
}

/**
 * Creates the CRD, or brings an existing one's spec to the manifest's with a merge patch guarded by
 * resourceVersion (re-reading on conflict); then waits, by watch, until it is Established.
 */
export async function installCrd(client: KubeClient, manifest: CrdManifest, opts: { timeoutMs: number }): Promise<CrdInstallResult> {
  const store = new CrdStore(client);
  const name = manifest.json.metadata.name;
  // A conflict (created or changed by someone else meanwhile): read again.
  const exhausted = () => new KoncliError('error', `${name}: gave up after ${MAX_CONFLICTS} write conflicts in a row`);
  const applied = await retryOnConflict(
    { clock: client.clock, maxConflicts: MAX_CONFLICTS, exhausted },
    async (): Promise<{ outcome: CrdInstallResult['outcome']; crd: V1CustomResourceDefinition }> => {
      const current = await store.read(name);
      if (!current) {
        const crd = await client.call(store.site('create', name), () =>
          store.api.createCustomResourceDefinition({ body: manifest.typed, fieldManager: FIELD_MANAGER }),
        );
        return { outcome: 'created', crd };
      }
      const before = current.metadata?.resourceVersion;
      const body = { metadata: { resourceVersion: before }, spec: manifest.json.spec };
      const crd = await client.call(store.site('patch', name), () =>
        store.api.patchCustomResourceDefinition({ name, body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
      );
      return { outcome: crd.metadata?.resourceVersion === before ? 'unchanged' : 'updated', crd };
    },
  );

  const started = client.clock.now();
  const deadline = started + opts.timeoutMs;
  const result = (established: boolean, version: string): CrdInstallResult => ({
    name,
    outcome: applied.outcome,
    resourceVersion: version,
    established,
    waitedMs: Math.round(client.clock.now() - started),
  });
  const initial = stateOf(applied.crd);
  if (initial.established || opts.timeoutMs <= 0) return result(initial.established, initial.version);
  const feed = new ChangeFeed(store, name, client.clock, initial);
  feed.start();
  try {
    return await watchUntilDecided<CrdState, CrdInstallResult>(feed, client.clock, { deadline, startedAt: started }, (state) => {
      if (!state) throw new KoncliError('not-found', `${name} was deleted while waiting for it to become Established`);
      if (state.established) return { done: result(true, state.version) };
      if (state.rejected) throw new KoncliError('error', `the API server refuses ${name}: ${state.rejected}`);
      return {
        until: deadline,
        giveUp: () => new KoncliError('busy', `${name} is not Established after ${Math.round(opts.timeoutMs / 1000)}s; see: kubectl get crd ${name} -o yaml`),
      };
    });
  } finally {
    feed.stop();
  }
}
