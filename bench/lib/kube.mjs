// The bench's own view of the API server: a minimal HTTPS client with the plane's admin
// certificate (no client-node, so the bench adds no start-up of its own to what it measures).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';

export class Kube {
  constructor(state) {
    const url = new URL(state.server);
    this.base = { host: url.hostname, port: Number(url.port) };
    this.tls = { ca: readFileSync(state.pki.caCert), cert: readFileSync(state.pki.adminCert), key: readFileSync(state.pki.adminKey) };
  }

  /** One request; resolves { status, body } (body parsed as JSON when it is JSON). */
  call(method, path, body, contentType = 'application/json') {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          ...this.base,
          ...this.tls,
          method,
          path,
          headers: { Accept: 'application/json', 'User-Agent': 'koncli-bench', ...(data ? { 'Content-Type': contentType } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let parsed = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  async ok(method, path, body, contentType) {
    const res = await this.call(method, path, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body;
  }

  createNamespace(name) {
    return this.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  leasePath(ns, name = '') {
    return `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases${name ? `/${name}` : ''}`;
  }

  async getLease(ns, name) {
    const res = await this.call('GET', this.leasePath(ns, name));
    return res.status === 404 ? null : res.body;
  }

  /** A JSON merge patch guarded by the resourceVersion it carries. */
  patchLease(ns, name, patch) {
    return this.ok('PATCH', this.leasePath(ns, name), patch, 'application/merge-patch+json');
  }

  /**
   * Watches one lease; `onEvent({ type, lease, at })` gets every event with its arrival time
   * (performance.now()). Resolves once the watch is open; returns stop().
   */
  watchLease(ns, name, onEvent) {
    return this.watchLeases(ns, `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`, onEvent);
  }

  /** Watches the leases that `query` (a fieldSelector= or labelSelector= parameter) selects, as watchLease does. */
  watchLeases(ns, query, onEvent) {
    const path = `${this.leasePath(ns)}?watch=1&${query}&timeoutSeconds=1800`;
    return new Promise((resolve, reject) => {
      const req = request({ ...this.base, ...this.tls, method: 'GET', path, headers: { 'User-Agent': 'koncli-bench' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const at = performance.now();
          buffer += chunk;
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.trim()) {
              const event = JSON.parse(line);
              onEvent({ type: event.type, lease: event.object, at });
            }
          }
        });
        resolve(() => req.destroy());
      });
      req.on('error', (err) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
      req.end();
    });
  }

  /** The server's /metrics as [{ name, labels, value }] for the metric names in `names`. */
  async metrics(names) {
    const res = await this.call('GET', '/metrics');
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
    const out = [];
    for (const line of String(res.body).split('\n')) {
      const m = /^(\w+)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
      if (!m || !names.includes(m[1])) continue;
      const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      out.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return out;
  }

  /** Watch events the API server has sent for Leases, to every watcher (apiserver_watch_events_total). */
  async leaseWatchEvents() {
    const rows = await this.metrics(['apiserver_watch_events_total']);
    return rows.filter((r) => r.labels.resource === 'leases' || r.labels.kind === 'Lease').reduce((n, r) => n + r.value, 0);
  }

  /** apiserver_request_total from the server's /metrics: [{ labels, value }]. */
  async requestCounters() {
    const res = await this.call('GET', '/metrics');
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
    const out = [];
    for (const line of String(res.body).split('\n')) {
      const m = /^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      out.push({ labels, value: Number(m[2]) });
    }
    return out;
  }
}

/** Requests counted between two requestCounters() snapshots, by "VERB resource", for `resources`. */
export function requestDelta(before, after, resources) {
  const key = (c) =>
    `${c.labels.verb} ${c.labels.resource}${c.labels.subresource ? `/${c.labels.subresource}` : ''}|${c.labels.code}|${c.labels.group}|${c.labels.scope}`;
  const start = new Map(before.map((c) => [key(c), c.value]));
  const delta = {};
  for (const c of after) {
    if (!resources.includes(c.labels.resource)) continue;
    const d = c.value - (start.get(key(c)) ?? 0);
    if (d <= 0) continue;
    const name = `${c.labels.verb} ${c.labels.resource}`;
    delta[name] = (delta[name] ?? 0) + d;
  }
  return delta;
}

export const holderOf = (lease) => lease?.spec?.holderIdentity ?? '';

/** The label selector of the candidates (one small Lease per waiter) of a native lease `name`: docs/lease.md, "Waiting". */
export const candidatesQuery = (name) => `labelSelector=${encodeURIComponent(`koncli.dev/candidate-for=${name},koncli.dev/candidate-kind=Lease`)}`;

/** Number of waiters registered on a lease by koncli before candidates (its koncli.dev/waiters annotation). */
export function queuedOn(lease) {
  const raw = lease?.metadata?.annotations?.['koncli.dev/waiters'];
  if (!raw) return 0;
  try {
    return JSON.parse(raw).waiters.length;
  } catch {
    return 0;
  }
}
