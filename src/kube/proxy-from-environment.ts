import { BlockList, isIP } from 'node:net';

/**
 * The proxy kubectl would use for `serverUrl` when the kubeconfig sets no proxy-url: Go's
 * http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy). HTTPS_PROXY (or https_proxy) for an
 * https server, HTTP_PROXY (or http_proxy) for an http one; never for localhost or a loopback
 * address; NO_PROXY (or no_proxy) is a comma-separated list of `*`, host names (matching the name
 * and its subdomains; a leading `.` or `*.` matches subdomains only), IP addresses and CIDR ranges,
 * each optionally with `:port`. A proxy given without a scheme is http://. Returns undefined for
 * "connect directly".
 */
export function proxyFromEnvironment(serverUrl: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = new URL(serverUrl);
  const get = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const proxy = url.protocol === 'https:' ? get('HTTPS_PROXY') : get('HTTP_PROXY');
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (bypassed(host, port, get('NO_PROXY') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) {
    const loop = new BlockList();
    loop.addAddress('::1', 'ipv6');
    return loop.check(host, 'ipv6');
  }
  return false;
}

function bypassed(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const [net, bits] = entry.split('/');
      const family = isIP(net);
      if (family && isIP(host) === family) {
        const list = new BlockList();
        list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
        if (list.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
      }
      continue;
    }
    let entryPort: string | undefined;
    const portMatch = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (portMatch) [, entry, entryPort] = portMatch;
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}
