import { KoncliError, isKind } from '../core/errors.js';
import type { Listing, ListScope, LockLister, LockRow } from '../core/status/model.js';
import type { KubeClient } from '../kube/client.js';
import type { ResolvedResource } from '../kube/resource-resolver.js';
import { breakArgs, type UnlockCommandOf } from './break-commands.js';
import { openLeases, type LeaseKind } from './lease-session.js';
import { openSemaphores } from './semaphore-session.js';

/** The collection path of a resource type in scope (all namespaces when scope.namespace is undefined). */
const pathOf = (root: string, plural: string, scope: ListScope) => `${root}${scope.namespace ? `/namespaces/${scope.namespace}` : ''}/${plural}`;

/**
 * Why `koncli status` passes over a konductor.io/v1 type instead of failing: its CRD is not
 * installed (404), or the user may not list it (403, as kubelock's types); undefined for any other error.
 */
const notListable = (err: unknown) =>
  isKind(err, 'forbidden') ? 'you may not list them' : isKind(err, 'not-found') ? 'the CRD is not installed (koncli crd install)' : undefined;

/**
 * Native coordination.k8s.io/v1 Leases (client-go, klock, leaselocker, koncli) or konductor Leases.
 * konductor Leases whose CRD is not installed are skipped; `optional` (koncli status): also those the
 * user may not list (named at -v), which `lease status --kind konductor` reports as its error.
 */
export function leaseLister(client: KubeClient, kind: LeaseKind, optional = false): LockLister {
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
        const why = konductor && (optional || isKind(err, 'not-found')) ? notListable(err) : undefined;
        if (why) return { rows: [], skipped: [`konductor Leases (leases.konductor.io): ${why}`] };
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

/**
 * giantswarm/kubelock annotations on objects of every type the user may list (metadata-only lists, in
 * parallel). `readElsewhere`: types another lister of the same listing reads in full and reports
 * kubelock annotations on (the konductor primitive lister), so that no type is listed twice.
 */
export function kubelockLister(client: KubeClient, readElsewhere: () => Promise<Set<string>> = () => Promise.resolve(new Set())): LockLister {
  /** The types that carried kubelock annotations at the last listing: what -w watches. */
  let withLocks: ResolvedResource[] = [];
  return {
    kind: 'kubelock',
    async list(scope: ListScope): Promise<Listing> {
      const [{ DynamicObjectApi }, { ResourceResolver, resourceDisplayName }, { annotatedObjectOf }, elsewhere] = await Promise.all([
        import('../kube/object-api.js'),
        import('../kube/resource-resolver.js'),
        import('../kube/kubelock-store.js'),
        readElsewhere(),
      ]);
      const api = new DynamicObjectApi(client);
      const { resources, failed } = await new ResourceResolver(api).listable();
      // Locks on cluster-scoped objects belong to no namespace: listed only across all namespaces.
      const types = resources.filter((r) => (r.namespaced || scope.namespace === undefined) && !elsewhere.has(resourceDisplayName(r)));
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

type Found = { r: ResolvedResource; obj: import('../core/kubelock/model.js').AnnotatedObject; meta?: { namespace?: unknown; creationTimestamp?: unknown } };

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
      const namespace = r.namespaced && typeof meta?.namespace === 'string' ? meta.namespace : null;
      const what = `${object}${namespace ? ` in namespace ${namespace}` : ''}`;
      const created = isoTime(meta?.creationTimestamp) ?? null;
      return describeLocks(obj, what, tracker, client.clock.now(), client.clock.wallNow()).map((l) => kubelockRow(l, object, namespace, created));
    });
}

/** `KIND unlock NAME --force --if-holder X` for a primitive's row, when oclif has that command (and takes several holders, if need be). */
function primitiveBreak(unlockOf: UnlockCommandOf, kind: string, row: LockRow, holders: string[], konductor: boolean): string[] | null {
  const unlock = unlockOf(kind);
  if (!unlock || (holders.length > 1 && !unlock.multiple)) return null;
  return breakArgs.primitive(kind, row.name, row.namespace!, holders, konductor);
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
    breakArgs: (row, holders) => primitiveBreak(unlockOf, row.kind, row, holders, false),
    watchPaths: (scope) => Promise.resolve([pathOf('/api/v1', 'configmaps', scope)]),
  };
}

type KonductorType = import('../kube/konductor-primitive.js').KonductorShape['type'];

/**
 * The konductor.io/v1 types of `shapes` the server serves, by one discovery request (GET
 * /apis/konductor.io/v1), and what it does not serve (for -v): a cluster without konductor's CRDs
 * costs that one request, never an error.
 */
async function servedTypes<T extends { type: KonductorType }>(client: KubeClient, shapes: T[]): Promise<{ served: T[]; skipped: string[] }> {
  const { DynamicObjectApi } = await import('../kube/object-api.js');
  let names: Set<string>;
  try {
    const resources = await new DynamicObjectApi(client).resources({ group: 'konductor.io', version: 'v1' });
    names = new Set(resources.filter((r) => r.verbs?.includes('list')).map((r) => r.name));
  } catch (err) {
    const why = isKind(err, 'not-found') ? 'no konductor.io/v1 CRD is installed (koncli crd install)' : notListable(err);
    if (!why) throw err;
    return { served: [], skipped: [`konductor primitives: ${why}`] };
  }
  const missing = shapes.filter((s) => !names.has(s.type.plural)).map((s) => s.type.resource);
  return {
    served: shapes.filter((s) => names.has(s.type.plural)),
    skipped: missing.length ? [`${missing.join(', ')}: the CRD is not installed (koncli crd install)`] : [],
  };
}

/**
 * koncli's primitives stored as konductor.io/v1 objects (`--kind konductor`: Mutex, Once, RWMutex,
 * Barrier, WaitGroup, Gate): one list per type the server serves, in scope; a type the user may
 * not list is skipped and named at -v, as kubelock's types are. Rows are the primitive lister's
 * (the same claims, columns and JSON), their kind `konductor-KIND`, broken with `KIND unlock NAME
 * --kind konductor --force --if-holder X`. `only`: one kind (`mutex status --kind konductor`),
 * listed without discovery; its errors (CRD not installed, forbidden) are the command's.
 */
export function konductorPrimitiveLister(client: KubeClient, unlockOf: UnlockCommandOf, only?: string): LockLister {
  /** The types the last listing read: what -w watches. */
  let listed: KonductorType[] = [];
  return {
    kind: `konductor-${only ?? 'primitive'}`,
    async list(scope: ListScope): Promise<Listing> {
      const [{ KONDUCTOR_SHAPES }, { konductorRecordStoreOf }, { primitiveRow }, { ExpiryTracker }] = await Promise.all([
        import('../kube/konductor-shapes.js'),
        import('../kube/konductor-semaphore-store.js'),
        import('../core/status/primitive-row.js'),
        import('../core/expiry.js'),
      ]);
      const { served, skipped } = only ? { served: [KONDUCTOR_SHAPES[only]], skipped: [] } : await servedTypes(client, Object.values(KONDUCTOR_SHAPES));
      const listing = { allNamespaces: scope.namespace === undefined, labelSelector: scope.labelSelector };
      const lists = await Promise.all(
        served.map((shape) =>
          konductorRecordStoreOf(client, scope.namespace ?? client.namespace, shape, listing)
            .list()
            .then(
              (objects) => ({ type: shape.type, objects }),
              (err: unknown) => {
                const why = only ? undefined : notListable(err);
                if (!why) throw err;
                skipped.push(`${shape.type.resource}: ${why}`);
                return { type: undefined, objects: [] };
              },
            ),
        ),
      );
      listed = lists.flatMap((l) => (l.type ? [l.type] : []));
      const ctx = { clock: client.clock, tracker: new ExpiryTracker(client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs }) };
      const rows = lists.flatMap(({ objects }) => objects.map((o) => primitiveRow(o, ctx))).map((r) => ({ ...r, kind: `konductor-${r.kind}` }));
      // koncli status's kubelock lister leaves these types to this one (one list each): their kubelock annotations are reported here.
      const annotated = only ? [] : await kubelocksOn(client, lists);
      return { rows: [...rows, ...annotated], skipped };
    },
    breakArgs: (row, holders) =>
      row.kind === 'kubelock'
        ? breakArgs.kubelock(row.object!, row.name, row.namespace, holders)
        : primitiveBreak(unlockOf, row.kind.replace(/^konductor-/, ''), row, holders, true),
    watchPaths: (scope) => Promise.resolve(listed.map((t) => pathOf(`/apis/${t.group}/${t.version}`, t.plural, scope))),
  };
}

/** The kubelock rows of annotations on konductor objects listed in full, judged as the kubelock lister judges them. */
async function kubelocksOn(
  client: KubeClient,
  lists: { type?: KonductorType; objects: { metadata: import('../kube/konductor-lease.js').Obj }[] }[],
): Promise<LockRow[]> {
  const { annotatedObjectOf } = await import('../kube/kubelock-store.js');
  const found = lists.flatMap(({ type, objects }) =>
    type ? objects.map((o) => ({ r: { ...type, namespaced: true }, obj: annotatedObjectOf({ metadata: o.metadata }), meta: o.metadata })) : [],
  );
  return rowsOf(client, found);
}

/** The konductor.io/v1 resources (`mutexes.konductor.io`, …) the konductor primitive lister reads in full. */
const konductorPrimitiveResources = async () =>
  new Set(Object.values((await import('../kube/konductor-shapes.js')).KONDUCTOR_SHAPES).map((s) => s.type.resource));

/** Where a kind's primitives are stored decides its lister: labelled ConfigMaps, or konductor.io/v1 objects (`--kind konductor`). */
export const primitiveListerOf = (client: KubeClient, unlockOf: UnlockCommandOf, storage: 'native' | 'konductor', only?: string): LockLister =>
  storage === 'konductor' ? konductorPrimitiveLister(client, unlockOf, only) : primitiveLister(client, unlockOf, only);

/** Every kind `koncli status` lists, one descriptor each (docs/architecture.md: "Adding a kind to koncli status"). */
export const lockListers = (client: KubeClient, unlockOf: UnlockCommandOf = () => undefined): LockLister[] => [
  leaseLister(client, 'native'),
  leaseLister(client, 'konductor', true),
  semaphoreLister(client),
  kubelockLister(client, konductorPrimitiveResources),
  primitiveLister(client, unlockOf),
  konductorPrimitiveLister(client, unlockOf),
];
