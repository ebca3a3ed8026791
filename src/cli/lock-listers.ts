import { KoncliError, isKind } from '../core/errors.js';
import type { Listing, ListScope, LockLister, LockRow } from '../core/status/model.js';
import type { KubeClient } from '../kube/client.js';
import type { ResolvedResource } from '../kube/resource-resolver.js';
import { breakArgs, type UnlockCommandOf } from './break-commands.js';
import { openLeases, type LeaseKind } from './lease-session.js';
import { openSemaphores } from './semaphore-session.js';

/** The collection path of a resource type in scope (all namespaces when scope.namespace is undefined). */
const pathOf = (root: string, plural: string, scope: ListScope) => `${root}${scope.namespace ? `/namespaces/${scope.namespace}` : ''}/${plural}`;

/** Native coordination.k8s.io/v1 Leases (client-go, klock, leaselocker, koncli) or konductor Leases. */
export function leaseLister(client: KubeClient, kind: LeaseKind): LockLister {
  const konductor = kind === 'konductor';
  return {
    kind: konductor ? 'konductor-lease' : 'lease',
    async list(scope: ListScope): Promise<Listing> {
      const [ctx, { describeLease }, { leaseRow }] = await Promise.all([
        openLeases(client, kind, scope.namespace ?? client.namespace),
        import('../core/lease/describe.js'),
        import('../core/status/rows.js'),
      ]);
      let records;
      try {
        records = await ctx.store.list!(scope.namespace === undefined, scope.labelSelector);
      } catch (err) {
        // The konductor CRD is optional: without it there are no konductor Leases to list.
        if (konductor && isKind(err, 'not-found')) return { rows: [], skipped: ['konductor Leases: the konductor CRD is not installed'] };
        throw err;
      }
      const rows = records.map((r) => leaseRow(describeLease(r, ctx.tracker, ctx.clock.now(), ctx.clock.wallNow()), this.kind));
      return { rows, skipped: [] };
    },
    breakArgs: (row, holders) => breakArgs.lease(row.name, row.namespace!, konductor, holders),
    watchPaths: (scope) => Promise.resolve([pathOf(konductor ? '/apis/konductor.io/v1' : '/apis/coordination.k8s.io/v1', 'leases', scope)]),
  };
}

/** kube-lock semaphores: ConfigMaps with the `kube-lock` annotation. */
export function semaphoreLister(client: KubeClient): LockLister {
  return {
    kind: 'semaphore',
    async list(scope: ListScope): Promise<Listing> {
      const [ctx, { describeSemaphore }, { decodeSemaphore }, { semaphoreRow, corruptRow }] = await Promise.all([
        openSemaphores(client, scope.namespace ?? client.namespace),
        import('../core/semaphore/describe.js'),
        import('../core/semaphore/codec.js'),
        import('../core/status/rows.js'),
      ]);
      const objects = await ctx.store.list(scope.namespace === undefined, scope.labelSelector);
      const rows = objects.map((o) => {
        try {
          return semaphoreRow(describeSemaphore(o, decodeSemaphore(o.name, o.annotation!), ctx.tracker, ctx.clock.now(), ctx.clock.wallNow()));
        } catch (err) {
          if (!(err instanceof KoncliError)) throw err;
          return corruptRow('semaphore', o.namespace, o.name, err.message, o.createdAt ?? null);
        }
      });
      return { rows, skipped: [] };
    },
    breakArgs: (row, holders) => breakArgs.semaphore(row.name, row.namespace!, holders),
    watchPaths: (scope) => Promise.resolve([pathOf('/api/v1', 'configmaps', scope)]),
  };
}

/** giantswarm/kubelock annotations on objects of every type the user may list (metadata-only lists, in parallel). */
export function kubelockLister(client: KubeClient): LockLister {
  /** The types that carried kubelock annotations at the last listing: what -w watches. */
  let withLocks: ResolvedResource[] = [];
  return {
    kind: 'kubelock',
    async list(scope: ListScope): Promise<Listing> {
      const [{ DynamicObjectApi }, { ResourceResolver, resourceDisplayName }, { annotatedObjectOf }] = await Promise.all([
        import('../kube/object-api.js'),
        import('../kube/resource-resolver.js'),
        import('../kube/kubelock-store.js'),
      ]);
      const api = new DynamicObjectApi(client);
      const { resources, failed } = await new ResourceResolver(api).listable();
      // Locks on cluster-scoped objects belong to no namespace: listed only across all namespaces.
      const types = resources.filter((r) => r.namespaced || scope.namespace === undefined);
      const skipped = failed.map((gv) => `kubelock annotations: discovery of ${gv} failed`);
      const lists = await Promise.all(
        types.map((r) =>
          api.listMetadata(r, r.namespaced ? scope.namespace : undefined, scope.labelSelector).then(
            (items) => ({ r, items }),
            (err: Error) => {
              const why = isKind(err, 'forbidden') ? 'you may not list them' : `listing failed: ${err.message}`;
              skipped.push(`kubelock annotations on ${resourceDisplayName(r)}: ${why}`);
              return { r, items: [] };
            },
          ),
        ),
      );
      const found = lists.flatMap(({ r, items }) => items.map((item) => ({ r, obj: annotatedObjectOf(item), meta: item.metadata })));
      const rows = await rowsOf(client, found);
      withLocks = types.filter((t) => rows.some((row) => row.object?.startsWith(`${resourceDisplayName(t)}/`)));
      return { rows, skipped };
    },
    watchPaths: async (scope) => {
      const { collectionPath } = await import('../kube/object-api.js');
      return withLocks.map((r) => collectionPath({ ...r, namespaced: r.namespaced && scope.namespace !== undefined }, scope.namespace));
    },
    breakArgs: (row, holders) => breakArgs.kubelock(row.object!, row.name, row.namespace, holders),
  };
}

type Found = { r: ResolvedResource; obj: import('../core/kubelock/model.js').AnnotatedObject; meta?: { namespace?: string; creationTimestamp?: unknown } };

/** The kubelock rows of the objects that carry a kubelock annotation, judged on one tracker. */
async function rowsOf(client: KubeClient, found: Found[]): Promise<LockRow[]> {
  const [{ describeLocks }, { lockNameOf }, { kubelockRow }, { ExpiryTracker }, { resourceDisplayName }, { isoTime }] = await Promise.all([
    import('../core/kubelock/describe.js'),
    import('../core/kubelock/codec.js'),
    import('../core/status/rows.js'),
    import('../core/expiry.js'),
    import('../kube/resource-resolver.js'),
    import('../kube/patch.js'),
  ]);
  const tracker = new ExpiryTracker(client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs });
  return found
    .filter(({ obj }) => Object.keys(obj.annotations).some((k) => !!lockNameOf(k)))
    .flatMap(({ r, obj, meta }) => {
      const object = `${resourceDisplayName(r)}/${obj.name}`;
      const namespace = r.namespaced ? (meta?.namespace ?? null) : null;
      const what = `${object}${namespace ? ` in namespace ${namespace}` : ''}`;
      const created = isoTime(meta?.creationTimestamp) ?? null;
      return describeLocks(obj, what, tracker, client.clock.now(), client.clock.wallNow()).map((l) => kubelockRow(l, object, namespace, created));
    });
}

/**
 * koncli's own primitives of every kind (mutex, once, and any kind stored the same way): ConfigMaps
 * labelled `koncli.dev/primitive`, listed by that label, each kind's claims found by their common
 * shape (core/status/primitive-row.ts), broken with `KIND unlock NAME --force --if-holder X` where
 * that command exists. `only`: one kind (`mutex status` without NAME).
 */
export function primitiveLister(client: KubeClient, unlockOf: UnlockCommandOf, only?: string): LockLister {
  return {
    kind: only ?? 'primitive',
    async list(scope: ListScope): Promise<Listing> {
      const [{ listPrimitives }, { primitiveRow }, { ExpiryTracker }] = await Promise.all([
        import('../kube/primitive-store.js'),
        import('../core/status/primitive-row.js'),
        import('../core/expiry.js'),
      ]);
      const ctx = { clock: client.clock, tracker: new ExpiryTracker(client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs }) };
      const objects = await listPrimitives(client, scope.namespace, scope.labelSelector, only);
      return { rows: objects.map((o) => primitiveRow(o, ctx)), skipped: [] };
    },
    breakArgs: (row, holders) => {
      const unlock = unlockOf(row.kind);
      if (!unlock || (holders.length > 1 && !unlock.multiple)) return null;
      return breakArgs.primitive(row.kind, row.name, row.namespace!, holders);
    },
    watchPaths: (scope) => Promise.resolve([pathOf('/api/v1', 'configmaps', scope)]),
  };
}

/** Every kind `koncli status` lists, one descriptor each (docs/architecture.md: "Adding a kind to koncli status"). */
export const lockListers = (client: KubeClient, unlockOf: UnlockCommandOf = () => undefined): LockLister[] => [
  leaseLister(client, 'native'),
  leaseLister(client, 'konductor'),
  semaphoreLister(client),
  kubelockLister(client),
  primitiveLister(client, unlockOf),
];
