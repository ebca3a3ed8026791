import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { MANAGED_FIELDS_PRECISION_MS, WATCH_SERVER_TIMEOUT_SECONDS as WATCH_SECONDS } from '../core/timing.js';
import { isWatchOf, onConnectionActivity } from './connection-activity.js';
import { toKoncliError, type CallSite } from './errors.js';

/** The one object a watch is about: every event must name it. */
export interface WatchedObject {
  /** The collection's path, e.g. /apis/coordination.k8s.io/v1/namespaces/jobs/leases. */
  collectionPath: string;
  apiVersion: string;
  kind: string;
  name: string;
  /** Unset for a cluster-scoped object. */
  namespace?: string;
}

/** What an event's object says it is (the parsed JSON client-node hands over). */
interface EventIdentity {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown };
}

/**
 * Why an event's object is not the watched one (undefined: it is). The API server applies the
 * fieldSelector, but a proxy, an aggregated API server or a bug in between may not: an event is
 * used only when it names the watched object's kind, apiVersion, namespace and name, and — once a
 * uid is known — that uid, unless the watch saw that object deleted (then its successor's ADDED).
 */
export function foreignEvent(target: WatchedObject, type: string, obj: unknown, uid: string | undefined, deleted: boolean): string | undefined {
  const o = (obj ?? {}) as EventIdentity;
  const meta = o.metadata ?? {};
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
  const named = `${String(o.kind)} ${String(o.apiVersion)} ${namespace ? `${namespace}/` : ''}${String(meta.name)}`;
  if (o.kind !== target.kind || o.apiVersion !== target.apiVersion || meta.name !== target.name || namespace !== target.namespace) return named;
  const itsUid = typeof meta.uid === 'string' ? meta.uid : undefined;
  if (uid === undefined || itsUid === uid) return undefined;
  if (deleted && type === 'ADDED') return undefined; // the name re-created: a new object, a new uid
  return `${named} with uid ${itsUid}, not ${uid}`;
}

/**
 * Watches one object by name (fieldSelector) from `fromVersion`, decoding each state with
 * `decode`. Events that do not name the object (`foreignEvent`) are ignored and counted on the -v
 * trace. Resolves to a function that stops the watch. On 410 Gone for `fromVersion` (the
 * object's own resourceVersion left the API server's watch window because other objects of its
 * resource changed while it did not — e.g. waiters' candidate Leases beside the lease they wait
 * for — and re-reading it would give the same version again) it watches from now instead: the
 * server first sends the object as it is (client-go's reflector likewise re-lists on "too old
 * resource version"). Anything its connection receives — over HTTP/2 the answer to any request of
 * the process — counts as progress (`onProgress`: the connection is alive; kube/connection-activity.ts).
 */
export async function watchObject<T, Raw = unknown>(
  client: KubeClient,
  target: WatchedObject,
  fromVersion: string | undefined,
  decode: (obj: Raw) => T,
  handlers: WatchHandlers<T>,
  site: CallSite,
): Promise<() => void> {
  let closed = false;
  let replacement: (() => void) | undefined; // the watch from now that replaced this one (410 Gone)
  let stopped = false;
  const { collectionPath, name } = target;
  const quiet = onConnectionActivity(
    (path) => isWatchOf(collectionPath, name, path),
    () => closed || handlers.onProgress?.(),
  );
  const close = (err?: unknown) => {
    if (closed) return;
    closed = true;
    quiet();
    handlers.onClose(err === undefined || err === null ? undefined : toKoncliError(err, site, client.server, client.answered));
  };
  const events = eventsOf(client, target, decode, handlers);
  const fromNow = (err: unknown) => {
    if (closed || fromVersion === undefined || !isGone(err)) return false;
    closed = true;
    quiet();
    watchObject(client, target, undefined, decode, { ...handlers, uid: events.uid() }, site).then(
      (stop) => (stopped ? stop() : (replacement = stop)),
      (e: unknown) => handlers.onClose(toKoncliError(e, site, client.server, client.answered)),
    );
    return true;
  };
  const onEnd = (err: unknown, resumable: boolean) => {
    if (!closed && !(resumable && fromNow(err))) close(err);
  };
  const controller = await openWatch(client, target, fromVersion, (type, obj) => closed || events.onEvent(type, obj), onEnd).catch((err: unknown) => {
    quiet(); // never sent, or refused: nothing to hear
    throw err;
  });
  return () => {
    closed = true;
    stopped = true;
    quiet();
    controller.abort();
    replacement?.();
  };
}

/**
 * One WATCH request for `target` (by name, with BOOKMARKs, the server's timeout) from `fromVersion`.
 * Events go to `onEvent`; an ERROR event (its Status) or the stream's end goes to `onEnd` (resumable:
 * a 410 Gone may continue from now), and so does a handler that throws (not resumable).
 */
async function openWatch(
  client: KubeClient,
  target: WatchedObject,
  fromVersion: string | undefined,
  onEvent: (type: string, obj: unknown) => unknown,
  onEnd: (err: unknown, resumable: boolean) => void,
): Promise<AbortController> {
  const { collectionPath, name } = target;
  client.trace(`WATCH ${collectionPath}?fieldSelector=metadata.name=${name}`);
  const query = { fieldSelector: `metadata.name=${name}`, resourceVersion: fromVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS };
  const controller = await client.watcher().watch(
    collectionPath,
    query,
    (type, obj: unknown) => {
      if (type === 'ERROR') {
        controller?.abort();
        return onEnd({ code: (obj as { code?: unknown } | null)?.code, body: obj }, true);
      }
      try {
        onEvent(type, obj);
      } catch (err) {
        controller?.abort();
        onEnd(err, false);
      }
    },
    (err) => onEnd(err, true),
  );
  return controller;
}

/**
 * One watch's event handling: BOOKMARKs prove progress, events naming another object are ignored
 * (counted on the -v trace), the rest decoded and handed on. `uid()`: the watched object's uid as
 * last seen (undefined after its deletion), for a watch that continues this one.
 */
function eventsOf<T, Raw>(client: KubeClient, target: WatchedObject, decode: (obj: Raw) => T, handlers: WatchHandlers<T>) {
  let uid = handlers.uid;
  let deleted = false;
  let ignored = 0;
  const onEvent = (type: string, obj: unknown) => {
    if (type === 'BOOKMARK') return handlers.onProgress?.();
    const foreign = foreignEvent(target, type, obj, uid, deleted);
    if (foreign !== undefined) {
      client.trace(`ignored a ${type} watch event for ${foreign}: not the watched ${target.kind} ${target.name} (${++ignored} ignored on this watch)`);
      return;
    }
    // client-node's watch hands over the parsed JSON of the event's object, untyped.
    const itsUid = (obj as EventIdentity).metadata?.uid;
    deleted = type === 'DELETED';
    if (typeof itsUid === 'string') uid = itsUid;
    handlers.onChange(deleted ? null : decode(obj as Raw));
  };
  return { onEvent, uid: () => (deleted ? undefined : uid) };
}

/** An answer of 410 Gone (an ERROR event's Status, or the watch request's own response). */
const isGone = (err: unknown) => {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  return e?.code === 410 || e?.statusCode === 410;
};

/** A managedFields entry as far as write times need it: a Date from a typed read, a string from a watch event. */
export interface ManagedFieldsEntry {
  time?: Date | string;
  fieldsV1?: object;
}

/** A fieldsV1 set: `f:<field>` keys, each a nested set. */
export type FieldSet = { [key: string]: FieldSet | undefined };

/**
 * The latest server time (ms since the epoch, an upper bound) at which a field manager owning part of
 * the claim (`owns` of its fieldsV1) wrote; undefined when the object has no such entry (no managedFields).
 */
export function lastWriteOf(managedFields: readonly ManagedFieldsEntry[] | undefined, owns: (fields: FieldSet) => boolean): number | undefined {
  let latest: number | undefined;
  for (const entry of managedFields ?? []) {
    if (!entry?.time || !owns((entry.fieldsV1 ?? {}) as FieldSet)) continue;
    const t = new Date(entry.time).getTime();
    if (!Number.isNaN(t) && (latest === undefined || t > latest)) latest = t;
  }
  // managedFields times have whole-second precision: the write happened before the next second.
  return latest === undefined ? undefined : latest + MANAGED_FIELDS_PRECISION_MS;
}
