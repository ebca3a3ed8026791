// Watching one object. The stores import it on their first watch (\`await import\`), so a command
// that never waits does not evaluate it.
import type { WatchHandlers } from '../core/store.js';
import type { KubeClient } from './client.js';
import { WATCH_SERVER_TIMEOUT_SECONDS as WATCH_SECONDS } from '../core/timing.js';
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
