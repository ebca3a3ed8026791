import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { MANAGED_FIELDS_PRECISION_MS, WATCH_SERVER_TIMEOUT_SECONDS as WATCH_SECONDS } from '../core/timing.js';
import { toKoncliError, type CallSite } from './errors.js';

/**
 * Watches one object by name (fieldSelector) from `fromVersion`, decoding each state with
 * `decode`. Resolves to a function that stops the watch.
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
  const close = (err?: unknown) => {
    if (closed) return;
    closed = true;
    handlers.onClose(err === undefined || err === null ? undefined : toKoncliError(err, site, client.server, client.answered));
  };
  client.trace(`WATCH ${collectionPath}?fieldSelector=metadata.name=${name}`);
  const controller = await client.watcher().watch(
    collectionPath,
    {
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: fromVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: WATCH_SECONDS,
    },
    (type, obj: unknown) => {
      if (closed) return;
      if (type === 'ERROR') {
        controller?.abort();
        close({ code: (obj as { code?: unknown } | null)?.code, body: obj });
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
    (err) => close(err),
  );
  return () => {
    closed = true;
    controller.abort();
  };
}

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
