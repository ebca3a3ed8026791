import { createHash } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';

type Dispatcher = { close?: () => Promise<void>; destroy?: () => Promise<void> };

/** The connection pool behind a client's requests and watches. */
export interface SharedConnections {
  /** Dispatchers built so far: 1 for any number of requests while the connection options stay the same. */
  readonly agentsCreated: number;
  /** Drops the pool (its connections are destroyed); the next request connects afresh. */
  reset(): void;
}

/**
 * One undici dispatcher (Agent or ProxyAgent) while the connection options stay the same, so a
 * process's requests and watches share connections (one HTTP/2 connection when the server offers
 * it): client-node alone builds a new Agent, a new TCP and TLS connection, for every request.
 * The options are compared in full, certificates included, so a client certificate that changes on
 * disk (re-read per request) gets a new dispatcher; the old one is closed once its requests finish.
 */
export class ConnectionPool<D extends Dispatcher> implements SharedConnections {
  private current: { key: string; dispatcher: D } | undefined;
  private created = 0;

  get agentsCreated(): number {
    return this.created;
  }

  /** The dispatcher for `options` (any JSON-able value; fingerprinted), built with `create` when they changed. */
  get(options: unknown, create: () => D): D {
    const key = fingerprint(options);
    if (this.current?.key === key) return this.current.dispatcher;
    const previous = this.current?.dispatcher;
    this.current = { key, dispatcher: create() };
    this.created++;
    void previous?.close?.().catch(() => {});
    return this.current.dispatcher;
  }

  reset(): void {
    const dispatcher = this.current?.dispatcher;
    this.current = undefined;
    void dispatcher?.destroy?.().catch(() => {});
  }
}

/** A Buffer as JSON.stringify hands it to a replacer: `{ type: 'Buffer', data: [bytes] }`. */
const isBufferJson = (v: unknown): v is { type: 'Buffer'; data: number[] } =>
  typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);

function fingerprint(options: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(options, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString('base64') : v)))
    .digest('base64');
}

/** Calls `trace` with one line per new connection (undici's diagnostics channel; never credentials). */
export function traceConnections(trace: (line: string) => void): void {
  subscribe('undici:client:connected', (message) => {
    const { connectParams, socket } = message as { connectParams?: { host?: string }; socket?: { alpnProtocol?: string | false } };
    trace(`connected to ${connectParams?.host ?? 'the server'} (${socket?.alpnProtocol || 'http/1.1'})`);
  });
}
