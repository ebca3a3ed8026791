import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { MANAGED_FIELDS_PRECISION_MS, WATCH_SERVER_TIMEOUT_SECONDS as WATCH_SECONDS } from '../core/timing.js';
import { toKoncliError, type CallSite } from './errors.js';

/**
 * Watches one object by name (fieldSelector) from `fromVersion`, decoding each state with
 * `decode`. Resolves to a function that stops the watch. On 410 Gone for `fromVersion` (the
 * object's own resourceVersion left the API server's watch window because other objects of its
 * resource changed while it did not — e.g. waiters' candidate Leases beside the lease they wait
 * for — and re-reading it would give the same version again) it watches from now instead: the
 * server first sends the object as it is (client-go's reflector likewise re-lists on "too old
 * resource version").
 */
export async function watchObject<T, Raw = unknown>(
  client: KubeClient,
  collectionPath: string,
  name: string,
  fromVersion: string | undefined,
  decode: (obj: Raw) => T,
  handlers: WatchHandlers<T>,
  site: CallSite,
): Promise<() => void> {
  let closed = false;
  let replacement: (() => void) | undefined; // the watch from now that replaced this one (410 Gone)
  let stopped = false;
  const close = (err?: unknown) => {
    if (closed) return;
    closed = true;
    handlers.onClose(err === undefined || err === null ? undefined : toKoncliError(err, site, client.server, client.answered));
  };
  const fromNow = (err: unknown) => {
    if (closed || fromVersion === undefined || !isGone(err)) return false;
    closed = true;
    watchObject(client, collectionPath, name, undefined, decode, handlers, site).then(
      (stop) => (stopped ? stop() : (replacement = stop)),
      (e: unknown) => handlers.onClose(toKoncliError(e, site, client.server, client.answered)),
    );
    return true;
  };
  client.trace(`WATCH ${collectionPath}?fieldSelector=metadata.name=${name}`);
  const controller = await client.watcher().watch(
    collectionPath,
    { fieldSelector: `metadata.name=${name}`, resourceVersion: fromVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS },
    (type, obj: unknown) => {
      if (closed) return;
      if (type === 'ERROR') {
        controller?.abort();
        const status = { code: (obj as { code?: unknown } | null)?.code, body: obj };
        if (!fromNow(status)) close(status);
        return;
      }
      if (type === 'BOOKMARK') return;
      try {
        // client-node's watch hands over the parsed JSON of the event's object, untyped.
        handlers.onChange(type === 'DELETED' ? null : decode(obj as Raw));
      } catch (err) {
        controller?.abort();
        close(err);
      }
    },
    (err) => {
      if (!fromNow(err)) close(err);
    },
  );
  return () => {
    closed = true;
    stopped = true;
    controller.abort();
    replacement?.();
  };
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
