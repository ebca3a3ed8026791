import { subscribe } from 'node:diagnostics_channel';

/**
 * Which connection a watch rides on, and when that connection receives anything, read from undici's
 * public diagnostics channels: `undici:client:sendHeaders` names the socket a request goes out on,
 * `undici:request:headers`, `…:bodyChunkReceived` and `…:trailers` say bytes of an answer arrived.
 * Over HTTP/2 (what the API server offers; undici negotiates it) every request of the process shares
 * the watch's connection, so the answer to any request — a waiter's heartbeat — proves that the
 * connection still carries bytes; over HTTP/1.1 a connection carries one request at a time, so only
 * the watch's own events do. A frozen connection carries none: its silence is still noticed
 * (core/feed.ts).
 */
type Listener = () => void;

interface Binding {
  matches(path: string): boolean;
  listener: Listener;
  socket?: object;
}

/** request → the socket it went out on (undici's own objects, held weakly). */
const socketOf = new WeakMap<object, object>();
/** socket → who wants to hear of its traffic. */
const listeners = new WeakMap<object, Set<Listener>>();
/** Bindings whose request has not been sent yet. */
const pending = new Set<Binding>();
let subscribed = false;

function sent(message: unknown): void {
  const { request, socket } = message as { request?: { path?: unknown }; socket?: object };
  if (!request || !socket) return;
  socketOf.set(request, socket);
  for (const b of pending) {
    if (!b.matches(String(request.path))) continue;
    pending.delete(b);
    b.socket = socket;
    const set = listeners.get(socket) ?? new Set<Listener>();
    set.add(b.listener);
    listeners.set(socket, set);
  }
}

function received(message: unknown): void {
  const socket = socketOf.get((message as { request?: object }).request ?? {});
  if (socket) for (const listener of listeners.get(socket) ?? []) listener();
}

function ensureSubscribed(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:client:sendHeaders', sent);
  for (const channel of ['undici:request:headers', 'undici:request:bodyChunkReceived', 'undici:request:trailers']) subscribe(channel, received);
}

/**
 * Calls `listener` whenever the connection of the next request whose path `matches` receives
 * anything (that request's answer or any other's on the same connection). Register before sending
 * the request. Returns a function that stops it.
 */
export function onConnectionActivity(matches: (path: string) => boolean, listener: Listener): () => void {
  ensureSubscribed();
  const binding: Binding = { matches, listener };
  pending.add(binding);
  return () => {
    pending.delete(binding);
    if (binding.socket) listeners.get(binding.socket)?.delete(listener);
  };
}

/** Whether `path` (path and query, as undici sends it; the server's own path prefix before it) is a watch of `collectionPath` restricted to the object `name`. */
export function isWatchOf(collectionPath: string, name: string, path: string): boolean {
  const url = new URL(path, 'http://x');
  return url.pathname.endsWith(collectionPath) && url.searchParams.get('watch') === 'true' && url.searchParams.get('fieldSelector') === `metadata.name=${name}`;
}
