// A TLS reverse proxy on 127.0.0.1 that forwards every request to the API server (as the
// client certificate it is given) and rewrites the response's `Date` header by an offset: what a
// load balancer in front of several API servers, or a proxy that writes its own `Date`, can do.
// Bodies (and watch streams) pass through untouched. Prints "listening <port>" when ready.
// Usage: node date-proxy.mjs <target-url> <state.json> <offset-ms>
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';

const [target, statePath, offsetText] = process.argv.slice(2);
const { pki } = JSON.parse(readFileSync(statePath, 'utf8'));
const offsetMs = Number(offsetText);
const upstream = new URL(target);
const ca = readFileSync(pki.caCert);
const cert = readFileSync(pki.adminCert);
const key = readFileSync(pki.adminKey);

const server = createServer({ cert: readFileSync(pki.servingCert), key: readFileSync(pki.servingKey) }, (req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, ca, cert, key, agent: false }, (up) => {
    const h = { ...up.headers };
    const date = Date.parse(h.date ?? '');
    if (!Number.isNaN(date)) h.date = new Date(date + offsetMs).toUTCString();
    res.writeHead(up.statusCode ?? 502, h);
    up.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
