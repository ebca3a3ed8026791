import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { toKoncliError, type CallSite } from './errors.js';

/** The server ends each watch after this long; the feed then resumes from the last version. */
const WATCH_SECONDS = 240;

/**
 * Watches one object by name (fieldSelector) from `fromVersion`, decoding each state with
 * `decode`. Resolves to a function that stops the watch.
 */
export async function watchObject<T>(
  client: KubeClient,
  collectionPath: string,
  name: string,
  fromVersion: string | undefined,
  decode: (obj: any) => T,
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
    (type, obj) => {
      if (closed) return;
      if (type === 'ERROR') {
        controller?.abort();
        close({ code: obj?.code, body: obj });
        return;
      }
      if (type === 'BOOKMARK') return;
      try {
        handlers.onChange(type === 'DELETED' ? null : decode(obj));
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

/** Extracts the latest server time at which any field manager owning one of `paths` wrote them. */
export function lastWriteOf(managedFields: any[] | undefined, owns: (fields: any) => boolean): number | undefined {
  let latest: number | undefined;
  for (const entry of managedFields ?? []) {
    if (!entry?.time || !owns(entry.fieldsV1 ?? {})) continue;
    const t = new Date(entry.time).getTime();
    if (!Number.isNaN(t) && (latest === undefined || t > latest)) latest = t;
  }
  // managedFields times have whole-second precision: the write happened before the next second.
  return latest === undefined ? undefined : latest + 1000;
}
