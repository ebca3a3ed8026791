// A TLS reverse proxy on 127.0.0.1 between koncli and the local plane's API server that makes
// network faults for real, one request at a time: it delays an answer, forwards a request and
// loses its answer, resets a connection, freezes connections (no byte either way, no FIN, no RST:
// a dead NAT entry or a frozen peer) or injects a line into a watch stream. It runs in the test's
// own process; rules are set and cleared while koncli runs.
//
//   const proxy = await startFaultProxy();
//   const kubeconfig = proxy.kubeconfig(dir, namespace);      // koncli talks to the proxy
//   proxy.rule({ method: 'PATCH', path: /\/leases\/x/ }, { delayAnswerMs: 9000 }, 1);
//   proxy.freezeAll();                                        // every open connection goes silent
//
// The proxy presents the API server's own serving certificate (valid for 127.0.0.1) and talks to
// the API server as the plane's admin, or as the restricted user with `as: 'restricted'`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { planeState } from './access.js';

/** Which requests a rule applies to: all given parts must match. `path` is matched against the path with its query. */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
  /** Only watch requests (`watch=true` or `watch=1` in the query) or only other requests. */
  watch?: boolean;
}

/** What happens to a matched request. */
export interface Fault {
  /** Forward the request at once, hold the answer this long (ms) before passing it on. */
  delayAnswerMs?: number;
  /** Forward the request and let it land, then never answer: the client connection is destroyed (`reset`) or left silent (`hang`). */
  loseAnswer?: 'reset' | 'hang';
  /** Do not forward; destroy the client connection at once (the request never lands). */
  reset?: boolean;
  /** Do not forward; accept and never answer (the request never lands, the connection stays open). */
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** Date.now() when the proxy received it. */
  at: number;
  fault?: keyof Fault;
}

export interface FaultProxy {
  /** https://127.0.0.1:PORT */
  url: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Applies `fault` to the next `times` requests that match (default: every one until cleared). Returns a function that removes the rule. */
  rule(match: RequestMatch, fault: Fault, times?: number): () => void;
  clearRules(): void;
  /** Every connection open now stops carrying bytes both ways, without closing; new connections work. Returns how many were frozen. */
  freezeAll(): number;
  /** Writes `line` (plus a newline) into every open watch stream whose request matches, after the current event. Returns how many streams got it. */
  inject(match: RequestMatch, line: string): number;
  /** Open client connections (frozen ones included). */
  connections(): number;
  /** Watch streams being relayed now whose request matches. */
  watches(match?: RequestMatch): number;
  /** A kubeconfig for `namespace` pointing at the proxy, written into `dir`; returns its path. */
  kubeconfig(dir: string, namespace: string, name?: string): string;
  close(): Promise<void>;
}

interface Conn {
  socket: Socket;
  frozen: boolean;
  /** Upstream answers being relayed on this connection, paused when frozen. */
  upstreams: Set<IncomingMessage>;
}

interface Rule {
  match: RequestMatch;
  fault: Fault;
  left: number;
}

interface Stream {
  method: string;
  path: string;
  res: ServerResponse;
  /** The last byte relayed ended a line: an injected line goes in whole between events. */
  atLineEnd: boolean;
  pending: string[];
}

const isWatch = (path: string) => /[?&]watch=(true|1)(&|$)/.test(path);

function matches(m: RequestMatch, method: string, path: string): boolean {
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path && !m.path.test(path)) return false;
  if (m.watch !== undefined && m.watch !== isWatch(path)) return false;
  return true;
}

/** Starts the proxy on an ephemeral port of 127.0.0.1. */
export async function startFaultProxy(opts: { as?: 'admin' | 'restricted' } = {}): Promise<FaultProxy> {
  const state = planeState() as ReturnType<typeof planeState> & { pki: { servingCert: string; servingKey: string } };
  const upstream = new URL(state.server);
  const ca = readFileSync(state.pki.caCert);
  const as = opts.as ?? 'admin';
  const cert = readFileSync(as === 'admin' ? state.pki.adminCert : state.pki.restrictedCert);
  const key = readFileSync(as === 'admin' ? state.pki.adminKey : state.pki.restrictedKey);
  const conns = new Map<Socket, Conn>();
  const rules: Rule[] = [];
  const streams = new Set<Stream>();
  const seen: SeenRequest[] = [];

  const takeFault = (method: string, path: string): Fault | undefined => {
    const r = rules.find((x) => x.left > 0 && matches(x.match, method, path));
    if (!r) return undefined;
    r.left -= 1;
    return r.fault;
  };

  const server: Server = createServer({ cert: readFileSync(state.pki.servingCert), key: readFileSync(state.pki.servingKey) }, (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const conn = conns.get(req.socket);
    if (!conn || conn.frozen) return; // a frozen connection carries nothing: the request is never read on
    const fault = takeFault(method, path);
    seen.push({ method, path, at: Date.now(), fault: fault ? (Object.keys(fault)[0] as keyof Fault) : undefined });
    if (fault?.reset) return void req.socket.destroy();
    if (fault?.hang) return;
    forward(req, res, conn, method, path, fault);
  });

  function forward(req: IncomingMessage, res: ServerResponse, conn: Conn, method: string, path: string, fault: Fault | undefined) {
    const headers = { ...req.headers, host: upstream.host };
    const out = request({ host: upstream.hostname, port: upstream.port, method, path, headers, ca, cert, key, agent: false }, (up) => {
      if (fault?.loseAnswer) {
        up.resume();
        up.on('end', () => {
          if (fault.loseAnswer === 'reset') req.socket.destroy();
        });
        return;
      }
      const relay = () => relayAnswer(up, res, conn, method, path);
      if (fault?.delayAnswerMs) setTimeout(relay, fault.delayAnswerMs);
      else relay();
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  function relayAnswer(up: IncomingMessage, res: ServerResponse, conn: Conn, method: string, path: string) {
    if (res.destroyed) return void up.destroy();
    res.writeHead(up.statusCode ?? 502, up.headers);
    const stream: Stream | undefined = isWatch(path) ? { method, path, res, atLineEnd: true, pending: [] } : undefined;
    if (stream) streams.add(stream);
    conn.upstreams.add(up);
    up.on('data', (chunk: Buffer) => {
      res.write(chunk);
      if (!stream) return;
      stream.atLineEnd = chunk[chunk.length - 1] === 0x0a;
      if (stream.atLineEnd) for (const line of stream.pending.splice(0)) res.write(`${line}\n`);
    });
    up.on('end', () => {
      conn.upstreams.delete(up);
      if (stream) streams.delete(stream);
      if (!conn.frozen) res.end();
    });
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (stream) streams.delete(stream);
      up.destroy();
    });
    if (conn.frozen) up.pause();
    else up.resume();
  }

  server.on('secureConnection', (socket: Socket) => {
    conns.set(socket, { socket, frozen: false, upstreams: new Set() });
    socket.on('close', () => conns.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    url,
    seen,
    rule(match, fault, times = Number.POSITIVE_INFINITY) {
      const r: Rule = { match, fault, left: times };
      rules.push(r);
      return () => {
        r.left = 0;
      };
    },
    clearRules: () => void rules.splice(0),
    freezeAll() {
      let n = 0;
      for (const c of conns.values()) {
        if (c.frozen) continue;
        c.frozen = true;
        c.socket.pause(); // stop reading the client: its requests pile up unread in the kernel
        for (const up of c.upstreams) up.pause();
        for (const s of streams) if (s.res.socket === c.socket) streams.delete(s);
        n += 1;
      }
      return n;
    },
    inject(match, line) {
      let n = 0;
      for (const s of streams) {
        if (!matches(match, s.method, s.path)) continue;
        if (s.atLineEnd) s.res.write(`${line}\n`);
        else s.pending.push(line);
        n += 1;
      }
      return n;
    },
    connections: () => conns.size,
    watches: (match = {}) => [...streams].filter((s) => matches(match, s.method, s.path)).length,
    kubeconfig(dir, namespace, name = 'fault-proxy.kubeconfig') {
      const path = join(dir, name);
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: url, 'certificate-authority-data': ca.toString('base64') } }],
        users: [{ name: as, user: { 'client-certificate-data': cert.toString('base64'), 'client-key-data': key.toString('base64') } }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: as, namespace } }],
        'current-context': 'proxy',
      };
      writeFileSync(path, stringify(config));
      return path;
    },
    async close() {
      for (const c of conns.values()) c.socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
