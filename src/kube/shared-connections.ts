import { createHash } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

type Dispatcher = { close?: () => Promise<void>; destroy?: () => Promise<void> };
type CreateDispatcher = (cluster: Cluster | null, agentOptions: object) => Dispatcher | undefined;

/** The connection pool behind a KubeConfig's requests and watches (see shareConnections). */
export interface SharedConnections {
  /** Agents built so far: 1 for any number of requests while the connection options stay the same. */
  readonly agentsCreated: number;
  /** Drops the pool (its connections are destroyed); the next request connects afresh. */
  reset(): void;
}

/**
 * client-node builds a new undici Agent for every request (KubeConfig.createDispatcher), so each
 * request opened its own TCP and TLS connection and parsed the certificates again: about 15-25 ms
 * of CPU per request here, and a handshake between a waiter's watch event and its write. This keeps
 * one Agent while the connection options stay the same, so requests and watches share connections
 * (one HTTP/2 connection when the server offers it). The options are compared in full, certificates
 * included, so a client certificate that changes on disk (client-node re-reads it per request) gets
 * a new Agent; the old one is closed once its requests finish.
 *
 * createDispatcher is private in client-node's types: if a release renames it, nothing is shared
 * and every request connects afresh, as before (agentsCreated stays 0, which a test checks).
 */
export function shareConnections(kc: KubeConfig): SharedConnections {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const original = target.createDispatcher;
  let current: { key: string; agent: Dispatcher | undefined } | undefined;
  let agentsCreated = 0;
  if (typeof original === 'function' && typeof kc.createDispatcherOptions === 'function') {
    target.createDispatcher = (cluster, agentOptions) => {
      const key = fingerprint(kc.createDispatcherOptions(cluster, agentOptions));
      if (current?.key === key) return current.agent;
      const previous = current?.agent;
      current = { key, agent: original.call(kc, cluster, agentOptions) };
      if (current.agent) agentsCreated++;
      void previous?.close?.().catch(() => {});
      return current.agent;
    };
  }
  return {
    get agentsCreated() {
      return agentsCreated;
    },
    reset() {
      const agent = current?.agent;
      current = undefined;
      void agent?.destroy?.().catch(() => {});
    },
  };
}

function fingerprint(options: unknown): string {
  return createHash('sha256').update(JSON.stringify(options)).digest('base64');
}

/** Calls `trace` with one line per new connection (undici's diagnostics channel; never credentials). */
export function traceConnections(trace: (line: string) => void): void {
  subscribe('undici:client:connected', (message) => {
    const { connectParams, socket } = message as { connectParams?: { host?: string }; socket?: { alpnProtocol?: string | false } };
    trace(`connected to ${connectParams?.host ?? 'the server'} (${socket?.alpnProtocol || 'http/1.1'})`);
  });
}
