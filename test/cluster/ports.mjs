// Free-port selection on 127.0.0.1 using Node's net module (no ss/netstat needed).
import { createServer } from 'node:net';
import { PlaneError } from './proc.mjs';

/** Resolve with `port` if it can be bound on 127.0.0.1 now, else reject with a PlaneError. */
export function checkPortFree(port) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err) => {
      reject(new PlaneError(err.code === 'EADDRINUSE' ? `port 127.0.0.1:${port} is taken` : `cannot bind 127.0.0.1:${port}: ${err.message}`));
    });
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(port)));
  });
}

/** Ask the kernel for an unused port on 127.0.0.1. */
function ephemeralPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Pick ports for the named endpoints. A value from `fixed` (e.g. from an env var) is
 * checked and used as is; the rest are fresh ephemeral ports, all distinct.
 */
export async function pickPorts(names, fixed = {}) {
  const out = {};
  const used = new Set();
  for (const name of names) {
    if (fixed[name]) {
      out[name] = await checkPortFree(fixed[name]);
    } else {
      let port;
      do port = await ephemeralPort();
      while (used.has(port) || Object.values(fixed).includes(port));
      out[name] = port;
    }
    used.add(out[name]);
  }
  return out;
}
