// The start-up floor of Node itself: one HTTPS GET of a lease with the kubeconfig's client
// certificate, no libraries. Usage: node floor.mjs SERVER CA CERT KEY PATH
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const [server, ca, cert, key, path] = process.argv.slice(2);
const url = new URL(server);
const req = request({ host: url.hostname, port: url.port, path, ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) }, (res) => {
  res.pipe(process.stdout);
  res.on('end', () => (process.exitCode = res.statusCode === 200 ? 0 : 1));
});
req.end();
