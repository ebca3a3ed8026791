import { WATCH_SERVER_TIMEOUT_SECONDS } from '../core/timing.js';
import type { KubeClient } from './client.js';

/**
 * Watches a whole collection (`koncli status -w`): `onEvent` on every change of any object in it,
 * `onClose` when the watch ends (the server's timeout, a drop, an error). Resolves to a stop function.
 */
export async function watchCollection(
  client: KubeClient,
  path: string,
  labelSelector: string | undefined,
  onEvent: () => void,
  onClose: () => void,
): Promise<() => void> {
  let stopped = false;
  client.trace(`WATCH ${path}${labelSelector ? `?labelSelector=${labelSelector}` : ''}`);
  const controller = await client.watcher().watch(
    path,
    { allowWatchBookmarks: true, timeoutSeconds: WATCH_SERVER_TIMEOUT_SECONDS, ...(labelSelector ? { labelSelector } : {}) },
    (type) => {
      if (!stopped && type !== 'BOOKMARK') onEvent();
    },
    () => {
      if (!stopped) onClose();
    },
  );
  return () => {
    stopped = true;
    controller.abort();
  };
}
